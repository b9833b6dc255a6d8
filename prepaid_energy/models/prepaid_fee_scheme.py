from odoo import api, fields, models

from prepaid_energy_core import fees

#: the product a new scheme of each type invoices with (data/prepaid_fee_data.xml)
DEFAULT_PRODUCTS = {
    fees.RENT: "prepaid_energy.product_rent",
    fees.PROPERTY: "prepaid_energy.product_property_fee",
    fees.METER_RENTAL: "prepaid_energy.product_meter_rental",
}
FALLBACK_PRODUCT = "prepaid_energy.product_fee"


class PrepaidFeeScheme(models.Model):
    """Rent, property, service, meter rental or any custom fee: how much, how often,
    and whether it is taken from the wallet or invoiced."""

    _name = "prepaid.fee.scheme"
    _description = "Fee scheme"
    _inherit = ["mail.thread", "prepaid.audit.mixin"]
    _order = "site_id, fee_type, name, id"
    _check_company_auto = True
    _audit_action = "fee_change"
    _audit_fields = (
        "name",
        "fee_type",
        "basis",
        "amount",
        "periodicity",
        "prorate",
        "collection",
        "due_days",
        "product_id",
        "site_id",
        "active",
    )

    name = fields.Char(required=True, tracking=True)
    fee_type = fields.Selection(
        list(fees.FEE_TYPE_LABELS), string="Type", required=True, default=fees.RENT, tracking=True
    )
    basis = fields.Selection(
        list(fees.BASIS_LABELS),
        string="Charged",
        required=True,
        default=fees.FIXED,
        tracking=True,
        help="Fixed: the amount per period. Per m²: the amount times the unit's area. "
        "Per unit: the amount times the subscription's number of units (meters rented, "
        "parking spaces...).",
    )
    amount = fields.Float(
        string="Amount or rate",
        digits="Prepaid Tariff Price",
        required=True,
        tracking=True,
        help="Per period, tax included: the fixed amount, the price per m² or per unit.",
    )
    periodicity = fields.Selection(
        list(fees.PERIODICITY_LABELS),
        required=True,
        default=fees.MONTHLY,
        tracking=True,
        help="Calendar months, quarters or years of the site's clock, charged in advance "
        "on their first day; or once, on the start date.",
    )
    prorate = fields.Boolean(
        string="Prorate partial periods",
        default=True,
        help="A period covered only partly costs the amount times the days covered over the "
        "days of the period.",
    )
    collection = fields.Selection(
        list(fees.COLLECTION_LABELS),
        required=True,
        default=fees.WALLET,
        tracking=True,
        help="Deducted from the wallet (then on the period invoice with the consumption), or "
        "billed on its own invoice with a due date (Odoo's follow-up applies).",
    )
    due_days = fields.Integer(
        string="Due after (days)", default=10, help="Invoiced fees: days from invoice to due date."
    )
    product_id = fields.Many2one(
        "product.product",
        compute="_compute_product_id",
        store=True,
        readonly=False,
        precompute=True,  # required: there when the row is inserted (imports, code)
        required=True,
        check_company=True,
        help="What the fee is invoiced as (its taxes must be included in the price).",
    )
    site_id = fields.Many2one(
        "prepaid.location",
        check_company=True,
        domain="[('location_type', '=', 'site')]",
        help="Empty: offered on every site of the company.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True)
    subscription_ids = fields.One2many(
        "prepaid.fee.subscription", "scheme_id", string="Subscriptions"
    )
    subscription_count = fields.Integer(compute="_compute_subscription_count")
    note = fields.Text()

    _sql_constraints = [
        ("amount_positive", "CHECK(amount >= 0)", "A fee amount or rate cannot be negative."),
        ("due_days_positive", "CHECK(due_days >= 0)", "Due days cannot be negative."),
    ]

    @api.depends("fee_type")
    def _compute_product_id(self):
        defaults = self.env["product.product"].browse()
        for xmlid in (*DEFAULT_PRODUCTS.values(), FALLBACK_PRODUCT):
            defaults |= self.env.ref(xmlid, raise_if_not_found=False) or defaults.browse()
        for scheme in self:
            xmlid = DEFAULT_PRODUCTS.get(scheme.fee_type, FALLBACK_PRODUCT)
            product = self.env.ref(xmlid, raise_if_not_found=False) or self.env.ref(
                FALLBACK_PRODUCT, raise_if_not_found=False
            )
            # a product chosen by hand stays; between the defaults it follows the type
            if product and (not scheme.product_id or scheme.product_id in defaults):
                scheme.product_id = product

    @api.depends("subscription_ids")
    def _compute_subscription_count(self):
        for scheme in self:
            scheme.subscription_count = len(scheme.subscription_ids)

    def action_view_subscriptions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Subscriptions"),
            "res_model": "prepaid.fee.subscription",
            "view_mode": "list,form",
            "domain": [("scheme_id", "=", self.id)],
            "context": {"default_scheme_id": self.id},
        }

    def action_preview(self):
        """The charges these schemes' subscriptions will post next."""
        return self.env["prepaid.fee.preview.wizard"]._action_open({"default_scheme_ids": self.ids})
