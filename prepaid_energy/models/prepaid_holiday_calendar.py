from odoo import api, fields, models

from prepaid_energy_core.calendar import HolidayCalendar

from ..tools.core_errors import raise_as_odoo

#: weekly rest days as the core calendar wants them (Monday = 0)
WEEKEND_DAYS = {
    "sat_sun": (5, 6),
    "fri_sat": (4, 5),
    "sun": (6,),
    "none": (),
}


class PrepaidHolidayCalendar(models.Model):
    _name = "prepaid.holiday.calendar"
    _description = "Holiday calendar for time-of-use tariffs"
    _order = "name, id"

    name = fields.Char(required=True)
    company_id = fields.Many2one("res.company", index=True, help="Empty: shared by every company.")
    weekend = fields.Selection(
        [
            ("sat_sun", "Saturday and Sunday"),
            ("fri_sat", "Friday and Saturday"),
            ("sun", "Sunday only"),
            ("none", "No weekend"),
        ],
        string="Weekly rest days",
        default="sat_sun",
        required=True,
    )
    holiday_ids = fields.One2many("prepaid.holiday", "calendar_id", string="Days")
    holiday_count = fields.Integer(compute="_compute_holiday_count")
    active = fields.Boolean(default=True)

    @api.depends("holiday_ids")
    def _compute_holiday_count(self):
        for calendar in self:
            calendar.holiday_count = len(calendar.holiday_ids)

    def _to_core_dict(self):
        """The calendar as the core engine's plain-data form."""
        self.ensure_one()
        days = self.holiday_ids
        return {
            "holidays": sorted(days.filtered(lambda d: d.kind == "holiday").mapped("date")),
            "workdays": sorted(days.filtered(lambda d: d.kind == "workday").mapped("date")),
            "weekend": list(WEEKEND_DAYS[self.weekend]),
        }

    @api.constrains("weekend", "holiday_ids")
    def _check_core_calendar(self):
        for calendar in self:
            with raise_as_odoo(
                self.env,
                where=lambda calendar=calendar: self.env._("Calendar %(name)s", name=calendar.name),
            ):
                HolidayCalendar.from_dict(calendar._to_core_dict())
