"""Tariff and price changes go to the operator audit (prepaid.audit.log).

Hooks only: each tariff model takes the audit mixin and says what it logs.
"""

from odoo import models


class PrepaidTariff(models.Model):
    _name = "prepaid.tariff"
    _inherit = ["prepaid.tariff", "prepaid.audit.mixin"]
    _audit_action = "tariff_change"
    _audit_fields = (
        "name",
        "code",
        "utility",
        "company_id",
        "holiday_calendar_id",
        "cycle_period",
        "cycle_start_day",
        "cycle_start_month",
        "active",
    )


class PrepaidTariffVersion(models.Model):
    _name = "prepaid.tariff.version"
    _inherit = ["prepaid.tariff.version", "prepaid.audit.mixin"]
    _audit_action = "price_change"
    _audit_fields = ("tariff_id", "date_from", "kind", "price", "allowance")


class PrepaidTariffSeason(models.Model):
    _name = "prepaid.tariff.season"
    _inherit = ["prepaid.tariff.season", "prepaid.audit.mixin"]
    _audit_action = "tariff_change"


class PrepaidTariffPeriod(models.Model):
    _name = "prepaid.tariff.period"
    _inherit = ["prepaid.tariff.period", "prepaid.audit.mixin"]
    _audit_action = "tariff_change"


class PrepaidTariffPrice(models.Model):
    _name = "prepaid.tariff.price"
    _inherit = ["prepaid.tariff.price", "prepaid.audit.mixin"]
    _audit_action = "price_change"


class PrepaidTariffTier(models.Model):
    _name = "prepaid.tariff.tier"
    _inherit = ["prepaid.tariff.tier", "prepaid.audit.mixin"]
    _audit_action = "price_change"
