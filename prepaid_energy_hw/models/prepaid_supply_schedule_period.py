import datetime

from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.exceptions import ValidationError

from prepaid_energy_core import supply

DAY_TYPES = [("workday", "Workday"), ("weekend", "Weekend"), ("holiday", "Holiday")]


def float_to_time(hours):
    """8.5 -> 08:30; 24 -> 23:59:59 (the end of the day)."""
    if hours >= 24:
        return datetime.time(23, 59, 59)
    minutes = round(hours * 60)
    return datetime.time(minutes // 60, minutes % 60)


class PrepaidSupplySchedulePeriod(models.Model):
    _name = "prepaid.supply.schedule.period"
    _description = "Supply schedule: off period"
    _order = "schedule_id, day_type, hour_from, id"

    schedule_id = fields.Many2one(
        "prepaid.supply.schedule", required=True, index=True, ondelete="cascade"
    )
    day_type = fields.Selection(DAY_TYPES, required=True, default="workday")
    hour_from = fields.Float(string="Off from", required=True, help="e.g. 23.5 for 23:30")
    hour_to = fields.Float(
        string="On again at", required=True, help="Before 'off from': the next morning."
    )

    @api.constrains("hour_from", "hour_to", "day_type")
    def _check_hours(self):
        for period in self:
            if not (0 <= period.hour_from < 24 and 0 <= period.hour_to <= 24):
                raise ValidationError(self.env._("Hours run from 0 to 24."))
            with raise_as_odoo(self.env):
                period._to_core()

    def _to_core(self):
        self.ensure_one()
        return supply.OffPeriod(
            self.day_type, float_to_time(self.hour_from), float_to_time(self.hour_to)
        )
