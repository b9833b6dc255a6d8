from odoo import fields, models


class PrepaidAccountClosing(models.Model):
    """What happened when an account was closed: the record an auditor asks for."""

    _name = "prepaid.account.closing"
    _description = "Prepaid account closing"
    _order = "date desc, id desc"
    _check_company_auto = True

    account_id = fields.Many2one(
        "prepaid.account", required=True, index=True, ondelete="restrict", check_company=True
    )
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant", store=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="account_id.currency_id")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Closed by", default=lambda self: self.env.user)
    balance_before_settlement = fields.Monetary(
        help="Balance after the final readings and invoice, before the refund or transfer."
    )
    settlement = fields.Selection(
        [
            ("none", "Nothing left"),
            ("refund", "Refunded"),
            ("transfer", "Transferred"),
            ("debt", "Tenant owes the balance"),
        ],
        required=True,
    )
    settlement_amount = fields.Monetary()
    final_balance = fields.Monetary(help="Balance once closed: 0 unless the tenant owes money.")
    final_invoice_id = fields.Many2one("account.move", string="Final invoice", readonly=True)
    refund_id = fields.Many2one("prepaid.recharge", readonly=True)
    transfer_account_id = fields.Many2one(
        "prepaid.account", string="Transferred to", readonly=True, check_company=True
    )
    meter_ids = fields.Many2many("prepaid.meter", string="Meters closed", readonly=True)
    reason = fields.Text()

    def _compute_display_name(self):
        for closing in self:
            closing.display_name = self.env._(
                "Closing of %(account)s", account=closing.account_id.name or ""
            )
