from odoo import api, fields, models

MONTHS = [
    (str(number), name)
    for number, name in enumerate(
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        start=1,
    )
]


class PrepaidTariffSeason(models.Model):
    _name = "prepaid.tariff.season"
    _description = "Tariff season (a yearly range of days)"
    _order = "version_id, sequence, id"

    version_id = fields.Many2one(
        "prepaid.tariff.version", required=True, index=True, ondelete="cascade"
    )
    # stored for the multi-company record rule: a season is its tariff's company's
    company_id = fields.Many2one(related="version_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True)
    start_month = fields.Selection(MONTHS, required=True, default="1")
    start_day = fields.Integer(required=True, default=1)
    end_month = fields.Selection(MONTHS, required=True, default="12")
    end_day = fields.Integer(required=True, default=31, help="Inclusive.")
    period_ids = fields.One2many("prepaid.tariff.period", "season_id", string="TOU periods")
    price_ids = fields.One2many("prepaid.tariff.price", "season_id", string="Band prices")

    def _to_core_dict(self):
        self.ensure_one()
        return {
            "name": self.name,
            "start": f"{int(self.start_month):02d}-{self.start_day:02d}",
            "end": f"{int(self.end_month):02d}-{self.end_day:02d}",
            "schedules": self.period_ids._to_core_schedules(),
            "prices": self.price_ids._to_core_prices(),
        }

    @api.constrains("name", "start_month", "start_day", "end_month", "end_day")
    def _check_core_tariff(self):
        self.version_id._check_core_tariff_from_line()

    def unlink(self):
        versions = self.version_id
        result = super().unlink()
        versions.exists()._check_core_tariff_from_line()
        return result
