from odoo import api, fields, models


class PrepaidRechargeWizard(models.TransientModel):
    """The cashier's screen: recharge, refund, or reverse a mistaken one."""

    _name = "prepaid.recharge.wizard"
    _description = "Recharge, refund or reverse"

    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        required=True,
        domain="[('state', '=', 'open')]",
    )
    company_id = fields.Many2one(related="account_id.company_id")
    currency_id = fields.Many2one(related="account_id.currency_id")
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant")
    balance = fields.Monetary(related="account_id.balance", string="Current balance")
    operation = fields.Selection(
        [("recharge", "Recharge"), ("refund", "Refund"), ("reversal", "Reversal")],
        required=True,
        default="recharge",
    )
    amount = fields.Monetary(compute="_compute_amount", store=True, readonly=False)
    journal_id = fields.Many2one(
        "account.journal",
        string="Channel",
        domain="[('type', 'in', ('cash', 'bank')), ('company_id', '=', company_id)]",
    )
    payment_type = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], compute="_compute_payment_type"
    )
    payment_method_line_id = fields.Many2one(
        "account.payment.method.line",
        string="Payment method",
        compute="_compute_payment_method_line_id",
        store=True,
        readonly=False,
        domain="[('journal_id', '=', journal_id), ('payment_type', '=', payment_type)]",
    )
    reversed_recharge_id = fields.Many2one(
        "prepaid.recharge",
        string="Document to reverse",
        domain="[('account_id', '=', account_id), ('state', '=', 'done'), "
        "('operation', 'in', ('recharge', 'refund')), ('is_reversed', '=', False)]",
    )
    reason = fields.Text()
    external_reference = fields.Char(string="Channel reference")

    @api.depends("operation")
    def _compute_payment_type(self):
        for wizard in self:
            wizard.payment_type = "inbound" if wizard.operation == "recharge" else "outbound"

    @api.depends("journal_id", "payment_type")
    def _compute_payment_method_line_id(self):
        for wizard in self:
            wizard.payment_method_line_id = wizard.journal_id._prepaid_payment_method(
                wizard.payment_type
            )

    @api.depends("reversed_recharge_id")
    def _compute_amount(self):
        for wizard in self:
            if wizard.reversed_recharge_id:
                wizard.amount = wizard.reversed_recharge_id.amount

    def _prepare_recharge_vals(self):
        self.ensure_one()
        reversal = self.operation == "reversal"
        return {
            "operation": self.operation,
            "account_id": self.account_id.id,
            "amount": self.reversed_recharge_id.amount if reversal else self.amount,
            "journal_id": False if reversal else self.journal_id.id,
            "payment_method_line_id": False if reversal else self.payment_method_line_id.id,
            "reversed_recharge_id": self.reversed_recharge_id.id if reversal else False,
            "reason": self.reason,
            "external_reference": self.external_reference or False,
        }

    def action_confirm(self):
        """Create and book the document; returns its receipt, or its form while it
        waits for a manager's approval."""
        self.ensure_one()
        # All or nothing: a refused request leaves no draft, payment or line behind.
        with self.env.cr.savepoint():
            recharge = self.env["prepaid.recharge"].create(self._prepare_recharge_vals())
            recharge.action_confirm()
        if recharge.state == "done":
            return recharge.action_print_receipt()
        return {
            "type": "ir.actions.act_window",
            "res_model": "prepaid.recharge",
            "res_id": recharge.id,
            "view_mode": "form",
            "target": "current",
        }
