from odoo import api, fields, models

from .prepaid_tariff_version import to_decimal

BANDS = [("sharp", "Sharp"), ("peak", "Peak"), ("flat", "Flat"), ("valley", "Valley")]


class PrepaidTariffPrice(models.Model):
    _name = "prepaid.tariff.price"
    _inherit = "prepaid.tariff.seasonal.line.mixin"
    _description = "Time-of-use band price"
    _order = "version_id, season_id, band, id"

    band = fields.Selection(BANDS, required=True)
    price = fields.Float(string="Unit price", digits="Prepaid Tariff Price", required=True)

    _sql_constraints = [
        ("price_positive", "CHECK(price >= 0)", "A price cannot be negative."),
    ]

    def _to_core_prices(self):
        """``{band: Decimal price}`` for these prices."""
        return {price.band: to_decimal(price.price) for price in self}

    @api.constrains("season_id", "band", "price")
    def _check_core_tariff(self):
        self.version_id._check_core_tariff_from_line()
