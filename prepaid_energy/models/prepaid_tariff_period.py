from odoo import api, fields, models

from .prepaid_tariff_price import BANDS

DAY_TYPES = [("workday", "Workday"), ("weekend", "Weekend"), ("holiday", "Holiday")]


def format_hour(hours):
    """7.5 -> "07:30"; 24.0 -> "24:00" (the engine takes 24:00 as an end)."""
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class PrepaidTariffPeriod(models.Model):
    _name = "prepaid.tariff.period"
    _inherit = "prepaid.tariff.seasonal.line.mixin"
    _description = "Time-of-use period of a day type"
    _order = "version_id, season_id, day_type, hour_from, id"

    day_type = fields.Selection(
        DAY_TYPES,
        required=True,
        default="workday",
        help="Weekend falls back to the workday schedule, holiday to the weekend one.",
    )
    hour_from = fields.Float(string="From", required=True)
    hour_to = fields.Float(
        string="To", required=True, help="An end at or before the start crosses midnight."
    )
    band = fields.Selection(BANDS, required=True, default="flat")

    _sql_constraints = [
        (
            "hours_in_day",
            "CHECK(hour_from >= 0 AND hour_from < 24 AND hour_to >= 0 AND hour_to <= 24)",
            "Period hours run from 00:00 to 24:00.",
        ),
    ]

    def _to_core_schedules(self):
        """``{day_type: [(start, end, band), ...]}`` for these periods."""
        schedules = {}
        for period in self.sorted(lambda p: (p.day_type, p.hour_from)):
            schedules.setdefault(period.day_type, []).append(
                (format_hour(period.hour_from), format_hour(period.hour_to), period.band)
            )
        return schedules

    @api.constrains("season_id", "day_type", "hour_from", "hour_to", "band")
    def _check_core_tariff(self):
        self.version_id._check_core_tariff_from_line()
