from odoo import api, fields, models


class PrepaidHoliday(models.Model):
    _name = "prepaid.holiday"
    _description = "Public holiday or make-up workday"
    _order = "date desc, id"

    calendar_id = fields.Many2one(
        "prepaid.holiday.calendar", required=True, index=True, ondelete="cascade"
    )
    # stored for the multi-company record rule: a day is its calendar's company's
    company_id = fields.Many2one(related="calendar_id.company_id", store=True, index=True)
    name = fields.Char(required=True)
    date = fields.Date(required=True)
    kind = fields.Selection(
        [("holiday", "Holiday"), ("workday", "Make-up workday")],
        required=True,
        default="holiday",
        help="A make-up workday is a weekend day worked to bridge a holiday: "
        "the workday time-of-use schedule applies.",
    )

    _sql_constraints = [
        (
            "date_unique_per_calendar",
            "UNIQUE(calendar_id, date)",
            "A day can be listed only once in a calendar.",
        ),
    ]

    @api.constrains("date", "kind")
    def _check_core_calendar(self):
        # A make-up workday on a weekday is most likely a typing mistake: the core says so.
        self.calendar_id._check_core_calendar()
