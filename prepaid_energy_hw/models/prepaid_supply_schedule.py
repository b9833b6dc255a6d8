import datetime

from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo

from prepaid_energy_core import supply
from prepaid_energy_core.calendar import HolidayCalendar


class PrepaidSupplySchedule(models.Model):
    """Time control: when the supply of a site, a building or a group of units is off."""

    _name = "prepaid.supply.schedule"
    _description = "Supply schedule (time control)"
    _order = "date_from desc, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, help="e.g. Dormitory lights-out")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    location_ids = fields.Many2many(
        "prepaid.location",
        "prepaid_supply_schedule_location_rel",
        "schedule_id",
        "location_id",
        string="Applies to",
        required=True,
        check_company=True,
        help="Sites, buildings, floors or units: every meter under them follows the schedule.",
    )
    date_from = fields.Date(required=True, default=fields.Date.context_today)
    date_to = fields.Date(help="Last day in force; empty: until further notice.")
    calendar_id = fields.Many2one(
        "prepaid.holiday.calendar",
        string="Holiday calendar",
        help="Decides workdays, weekends and holidays (make-up workdays included). "
        "Empty: Saturday and Sunday are the weekend, no holidays.",
    )
    period_ids = fields.One2many(
        "prepaid.supply.schedule.period", "schedule_id", string="Supply off", copy=True
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "dates_in_order",
            "CHECK(date_to IS NULL OR date_to >= date_from)",
            "A schedule cannot end before it starts.",
        ),
    ]

    @api.constrains("period_ids", "date_from", "date_to", "calendar_id")
    def _check_core_schedule(self):
        for schedule in self:
            with raise_as_odoo(self.env, lambda s=schedule: self.env._("Schedule %s", s.name)):
                schedule._to_core()

    def _to_core(self):
        """The schedule as supply.SupplySchedule."""
        self.ensure_one()
        calendar = (
            HolidayCalendar.from_dict(self.calendar_id._to_core_dict())
            if self.calendar_id
            else HolidayCalendar()
        )
        return supply.SupplySchedule(
            self.name,
            [period._to_core() for period in self.period_ids],
            self.date_from,
            self.date_to or None,
            calendar,
        )

    @api.model
    def _schedules_by_location(self, today):
        """``[(core schedule, {location ids})]`` of the schedules in force around ``today``."""
        schedules = self.search(
            [
                ("date_from", "<=", today + datetime.timedelta(days=1)),
                "|",
                ("date_to", "=", False),
                ("date_to", ">=", today - datetime.timedelta(days=1)),
            ]
        )
        return [(schedule._to_core(), set(schedule.location_ids.ids)) for schedule in schedules]
