from odoo import api, fields, models

from .prepaid_tariff_version import to_decimal

BANDS = [("sharp", "Sharp"), ("peak", "Peak"), ("flat", "Flat"), ("valley", "Valley")]


class PrepaidTariffPrice(models.Model):
    _name = "prepaid.tariff.price"
    _description = "Time-of-use band price"
    _order = "version_id, season_id, band, id"

    version_id = fields.Many2one(
        "prepaid.tariff.version",
        required=True,
        index=True,
        ondelete="cascade",
    )
    season_id = fields.Many2one(
        "prepaid.tariff.season",
        index=True,
        ondelete="cascade",
        domain="[('version_id', '=', version_id)]",
        help="Empty when the version has no seasons.",
    )
    band = fields.Selection(BANDS, required=True)
    price = fields.Float(string="Unit price", digits="Product Price", required=True)

    _sql_constraints = [
        ("price_positive", "CHECK(price >= 0)", "A price cannot be negative."),
    ]

    def _to_core_prices(self):
        """``{band: Decimal price}`` for these prices."""
        return {price.band: to_decimal(price.price) for price in self}

    @api.model_create_multi
    def create(self, vals_list):
        # lines entered on a season belong to the season's version
        for vals in vals_list:
            if vals.get("season_id") and not vals.get("version_id"):
                season = self.env["prepaid.tariff.season"].browse(vals["season_id"])
                vals["version_id"] = season.version_id.id
        return super().create(vals_list)

    @api.constrains("season_id", "band", "price")
    def _check_core_tariff(self):
        self.version_id._check_core_tariff_from_line()

    def unlink(self):
        versions = self.version_id
        result = super().unlink()
        versions.exists()._check_core_tariff_from_line()
        return result
