from odoo import api, fields, models

from .prepaid_tariff_version import to_decimal


class PrepaidTariffTier(models.Model):
    _name = "prepaid.tariff.tier"
    _inherit = "prepaid.tariff.line.mixin"
    _description = "Consumption tier within a billing cycle"
    _order = "version_id, qty_from, id"

    qty_from = fields.Float(string="From", digits=(16, 4), required=True)
    qty_to = fields.Float(
        string="Up to", digits=(16, 4), help="Exclusive; leave empty on the last tier."
    )
    surcharge = fields.Float(
        digits="Prepaid Tariff Price",
        help="Added to the flat or band price for every unit in this tier.",
    )

    def _to_core_list(self):
        """``[{"from", "to", "surcharge"}, ...]`` in the order of these tiers."""
        return [
            {
                "from": to_decimal(tier.qty_from),
                "to": to_decimal(tier.qty_to) if tier.qty_to else None,
                "surcharge": to_decimal(tier.surcharge),
            }
            for tier in self
        ]

    @api.constrains("qty_from", "qty_to", "surcharge")
    def _check_core_tariff(self):
        self.version_id._check_core_tariff_from_line()
