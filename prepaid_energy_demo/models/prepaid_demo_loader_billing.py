"""The demo's billing: rent and property fees, the common areas' apportionment and the
period invoices of the company tenants, built by the methods staff's buttons and the
crons call, after the readings and recharges."""

import logging

from odoo import Command, api, models

from prepaid_energy_core import demo, fees

_logger = logging.getLogger(__name__)


class PrepaidDemoLoader(models.AbstractModel):
    _inherit = "prepaid.demo.loader"

    @api.model
    def _load_billing(self, site, occupancies, start, end):
        """Fees of the span's months, one apportionment per building for the last full
        month, and the company tenants' invoices of the months that are over."""
        company = site.company_id
        self._setup_sale_taxes(company)
        accounts = self._occupancy_accounts(occupancies)
        first_day, last_day = demo.span_days(start, end)
        schemes = self._create_fee_schemes(site)
        subscriptions = self._subscribe_fees(schemes, accounts, first_day)
        charges = self._post_fees(subscriptions, last_day)
        self._pay_rent(charges, company, last_day)
        runs = self._apportion_common_areas(site, start, end)
        companies = accounts.filtered(lambda account: account.partner_id.is_company)
        invoices = self._invoice_periods(companies, end)
        _logger.info(
            "prepaid demo billing: %s fee charges, apportioned %s, %s period invoices",
            len(charges),
            sum(runs.mapped("master_amount")),
            len(invoices),
        )
        return charges, runs, invoices

    @api.model
    def _billing_allowance(self, code, meters, series):
        """What the wallet of unit ``code`` pays besides its meters over the span: the
        property fee and (at most) its share of the building's common areas."""
        points = next(iter(series.values()))
        start, end = points[0][0], points[-1][0]
        building = next(
            meter["building"] for meter, _record in meters.values() if meter["unit"] == code
        )
        common = sum(
            series[serial][-1][1] - series[serial][0][1]
            for serial, (meter, _record) in meters.items()
            if meter["unit"] is None and meter["building"] == building
        )
        return float(demo.wallet_fees(code, start, end) + demo.common_share_bound(code, common))

    # ------------------------------------------------------------ taxes

    @api.model
    def _setup_sale_taxes(self, company):
        """Tariffs and fees are gross prices: the invoiced products' VAT is included (the
        chart's own sales tax of that rate when it is included, as l10n_cn's are)."""
        taxes = {rate: self._sale_tax_included(company, rate) for rate in demo.VAT_RATES.values()}
        for xmlid, rate in demo.VAT_RATES.items():
            self.env.ref(f"prepaid_energy.{xmlid}").taxes_id = [Command.set(taxes[rate].ids)]

    @api.model
    def _sale_tax_included(self, company, rate):
        Tax = self.env["account.tax"]
        domain = [
            ("company_id", "=", company.id),
            ("type_tax_use", "=", "sale"),
            ("amount_type", "=", "percent"),
            ("amount", "=", rate),
        ]
        return Tax.search([*domain, ("price_include", "=", True)], limit=1) or Tax.create(
            {
                "name": self.env._("VAT %(rate)s%% (included)", rate=rate),
                "amount": rate,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": company.id,
            }
        )

    # ------------------------------------------------------------ fees

    @api.model
    def _occupancy_accounts(self, occupancies):
        occupancy_ids = [occupancy.id for _tenant, occupancy in occupancies.values()]
        return self.env["prepaid.account"].search(
            [("occupancy_id", "in", occupancy_ids), ("state", "=", "open")], order="id"
        )

    @api.model
    def _prepare_fee_scheme_vals(self, site, scheme):
        return {
            "name": scheme["name"],
            "fee_type": scheme["fee_type"],
            "basis": fees.PER_AREA,
            "amount": float(scheme["rate"]),
            "periodicity": fees.MONTHLY,
            "collection": scheme["collection"],
            "due_days": scheme["due_days"],
            "site_id": site.id,
            "company_id": site.company_id.id,
        }

    @api.model
    def _create_fee_schemes(self, site):
        """``{scheme code: prepaid.fee.scheme}``."""
        schemes = demo.fee_schemes()
        records = self.env["prepaid.fee.scheme"].create(
            [self._prepare_fee_scheme_vals(site, scheme) for scheme in schemes]
        )
        return {scheme["code"]: record for scheme, record in zip(schemes, records)}

    @api.model
    def _subscribe_fees(self, schemes, accounts, first_day):
        """Every rented unit's account takes its kind's rent and property fee from the
        first day of the span."""
        return self.env["prepaid.fee.subscription"].create(
            [
                {
                    "account_id": account.id,
                    "scheme_id": schemes[scheme["code"]].id,
                    "date_start": first_day,
                }
                for account in accounts
                for scheme in demo.unit_fee_schemes(account.unit_id.name)
            ]
        )

    @api.model
    def _post_fees(self, subscriptions, last_day):
        """Charge the months up to the span's last day, as the fee cron does each day (a
        month is charged in advance on its first day)."""
        return subscriptions._post_due_charges(until=last_day)

    @api.model
    def _pay_rent(self, charges, company, today):
        """Rent invoices past their due date on ``today`` are paid by bank transfer, except
        those of the tenant in arrears."""
        invoices = charges.invoice_id.filtered(
            lambda invoice: (
                invoice.invoice_date_due < today and invoice.prepaid_fee_account_id.balance >= 0
            )
        )
        if not invoices:
            return self.env["account.payment"]
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({"journal_id": journal.id, "group_payment": False})
            ._create_payments()
        )

    # ------------------------------------------------------------ common areas

    @api.model
    def _prepare_apportionment_rule_vals(self, site, building, meters):
        return {
            "name": self.env._("Common areas of %(building)s", building=building.name),
            "site_id": site.id,
            "scope_id": building.id,
            "utility": demo.ELECTRICITY,
            "meter_ids": [Command.set(meters.ids)],
            "method": "area",
            "price_unit": float(demo.COMMON_AREA_PRICE),
        }

    @api.model
    def _apportion_common_areas(self, site, start, end):
        """A rule per building sharing its common-area meters among its units by area, and
        its run of the span's last full month, computed and posted to the wallets."""
        serials = [meter["serial"] for meter in demo.meters() if meter["unit"] is None]
        common = self.env["prepaid.meter"].search(
            [("site_id", "=", site.id), ("serial", "in", serials)]
        )
        by_building = common.grouped("unit_id")
        rules = self.env["prepaid.apportionment.rule"].create(
            [
                self._prepare_apportionment_rule_vals(site, building, meters)
                for building, meters in sorted(by_building.items(), key=lambda item: item[0].name)
            ]
        )
        rules.action_add_units()
        first, last = demo.last_full_month(start, end)
        runs = self.env["prepaid.apportionment.run"].create(
            [{"rule_id": rule.id, "period_start": first, "period_end": last} for rule in rules]
        )
        runs.action_compute()
        runs.action_post()
        return runs

    # ------------------------------------------------------------ invoices

    @api.model
    def _invoice_periods(self, accounts, end):
        """The accountant's period invoicing of the months that are over."""
        wizard = self.env["prepaid.invoice.wizard"].create(
            {"date_to": demo.invoice_until(end), "account_ids": [Command.set(accounts.ids)]}
        )
        action = wizard.action_confirm()
        return self.env["account.move"].search(action["domain"], order="id")
