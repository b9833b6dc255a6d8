from odoo import api, fields, models

from prepaid_energy_core import tariff as core_tariff

from ..tools.core_errors import raise_as_odoo

UTILITIES = [("electricity", "Electricity"), ("water", "Water")]


class PrepaidTariff(models.Model):
    _name = "prepaid.tariff"
    _description = "Energy tariff"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(help="Short code shown on charges and pushed to meters.")
    utility = fields.Selection(UTILITIES, required=True, default="electricity")
    company_id = fields.Many2one(
        "res.company",
        index=True,
        default=lambda self: self.env.company,
        help="Empty: shared by every company.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        help="Prices are in the currency of the tariff's company.",
    )
    holiday_calendar_id = fields.Many2one(
        "prepaid.holiday.calendar",
        string="Holiday calendar",
        help="Decides workdays, weekends and holidays for the time-of-use schedules.",
    )
    cycle_period = fields.Selection(
        [("monthly", "Monthly"), ("yearly", "Yearly")],
        string="Billing cycle",
        default="monthly",
        required=True,
        tracking=True,
        help="Tiers and the free allowance restart with every cycle.",
    )
    cycle_start_day = fields.Integer(
        default=1, required=True, help="Day of the month the cycle starts (1-31)."
    )
    cycle_start_month = fields.Integer(
        default=1, required=True, help="Month a yearly cycle starts (1-12)."
    )
    version_ids = fields.One2many("prepaid.tariff.version", "tariff_id", string="Versions")
    current_version_id = fields.Many2one(
        "prepaid.tariff.version", compute="_compute_current_version_id", string="In force"
    )
    meter_ids = fields.One2many("prepaid.meter", "tariff_id", string="Meters with override")
    active = fields.Boolean(default=True)

    @api.depends("company_id")
    def _compute_currency_id(self):
        for tariff in self:
            tariff.currency_id = (tariff.company_id or self.env.company).currency_id

    @api.depends("version_ids.date_from")
    def _compute_current_version_id(self):
        today = fields.Date.context_today(self)
        for tariff in self:
            started = tariff.version_ids.filtered(lambda v: v.date_from <= today)
            tariff.current_version_id = started.sorted("date_from")[-1:] if started else False

    def _to_core_dict(self):
        """The tariff as the plain data ``prepaid_energy_core.tariff.Tariff.from_dict`` takes."""
        self.ensure_one()
        calendar = self.holiday_calendar_id
        return {
            "code": self.code or self.name,
            "calendar": calendar._to_core_dict() if calendar else None,
            "cycle": {
                "period": self.cycle_period,
                "start_day": self.cycle_start_day,
                "start_month": self.cycle_start_month,
            },
            "versions": [version._to_core_dict() for version in self.version_ids],
        }

    def _to_core(self):
        """Build the core engine's Tariff; raise odoo's ValidationError if the engine refuses it.

        Version refs are the version record ids, so that priced lines map back to them.
        """
        self.ensure_one()
        with raise_as_odoo(
            self.env, where=lambda: self.env._("Tariff %(name)s", name=self.display_name)
        ):
            return core_tariff.Tariff.from_dict(self._to_core_dict())

    @api.constrains(
        "cycle_period", "cycle_start_day", "cycle_start_month", "holiday_calendar_id", "code"
    )
    def _check_core_tariff(self):
        for tariff in self.filtered("version_ids"):
            tariff._to_core()
