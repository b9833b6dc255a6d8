from odoo import api, fields, models


class PrepaidTariffLineMixin(models.AbstractModel):
    """A line of a tariff version (price, period, tier) that the engine checks.

    Each line model adds its own ``@api.constrains`` calling
    ``version_id._check_core_tariff_from_line()`` for its fields; deleting a
    line re-checks the version here, so no edit can leave a tariff the engine
    refuses.
    """

    _name = "prepaid.tariff.line.mixin"
    _description = "Line of a tariff version"

    version_id = fields.Many2one(
        "prepaid.tariff.version", required=True, index=True, ondelete="cascade"
    )
    # stored for the multi-company record rule: a line is its tariff's company's
    company_id = fields.Many2one(related="version_id.company_id", store=True, index=True)

    def unlink(self):
        versions = self.version_id
        result = super().unlink()
        versions.exists()._check_core_tariff_from_line()
        return result


class PrepaidTariffSeasonalLineMixin(models.AbstractModel):
    """A tariff line that may belong to a season of its version (prices, periods)."""

    _name = "prepaid.tariff.seasonal.line.mixin"
    _inherit = "prepaid.tariff.line.mixin"
    _description = "Seasonal line of a tariff version"

    season_id = fields.Many2one(
        "prepaid.tariff.season",
        index=True,
        ondelete="cascade",
        domain="[('version_id', '=', version_id)]",
        help="Empty when the version has no seasons.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        # lines entered on a season belong to the season's version
        for vals in vals_list:
            if vals.get("season_id") and not vals.get("version_id"):
                season = self.env["prepaid.tariff.season"].browse(vals["season_id"])
                vals["version_id"] = season.version_id.id
        return super().create(vals_list)
