from odoo import fields, models

from .prepaid_tariff_price import BANDS


class PrepaidCharge(models.Model):
    _name = "prepaid.charge"
    _inherit = ["prepaid.bulk.mixin"]
    _description = "Priced consumption"
    _order = "date_end desc, id desc"
    # no _check_company_auto: the pricing creates charges in their meter's company

    meter_id = fields.Many2one(
        "prepaid.meter",
        required=True,
        index=True,
        ondelete="restrict",
    )
    utility = fields.Selection(related="meter_id.utility", store=True, precompute=True)
    site_id = fields.Many2one(related="meter_id.site_id", store=True, precompute=True, index=True)
    unit_id = fields.Many2one(related="meter_id.unit_id", store=True, precompute=True)
    account_id = fields.Many2one(
        "prepaid.account",
        index=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        related="account_id.partner_id", store=True, precompute=True, string="Tenant"
    )
    reading_id = fields.Many2one("prepaid.reading", index=True, ondelete="restrict")
    date_start = fields.Datetime(string="From", required=True)
    date_end = fields.Datetime(string="To", required=True, index=True)
    band = fields.Selection(BANDS, help="Time-of-use band; empty for a flat tariff.")
    tier = fields.Integer(help="Tier within the billing cycle; 0 without tiers.", aggregator=None)
    is_free = fields.Boolean(string="Free allowance")
    quantity = fields.Float(digits=(16, 6), aggregator="sum")
    # the tariff's band price plus its tier surcharge, both in the tariff's precision
    unit_price = fields.Float(digits="Prepaid Tariff Price", aggregator="avg")
    amount = fields.Monetary(aggregator="sum")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    tariff_version_id = fields.Many2one("prepaid.tariff.version", ondelete="restrict")
    tariff_id = fields.Many2one(related="tariff_version_id.tariff_id", store=True, precompute=True)
    product_id = fields.Many2one("product.product", ondelete="restrict")
    ledger_line_id = fields.Many2one(
        "prepaid.ledger.line", index="btree_not_null", ondelete="restrict"
    )
    invoice_line_id = fields.Many2one(
        "account.move.line", index="btree_not_null", ondelete="set null", copy=False
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id",
        store=True,
        precompute=True,
        string="Invoice",
        index="btree_not_null",
    )

    def _compute_display_name(self):
        for charge in self:
            meter = charge.meter_id.serial or ""
            charge.display_name = f"{meter} {charge.date_start or ''} - {charge.date_end or ''}"
