from odoo import api, fields, models

from prepaid_energy_core.vocabulary import RECHARGE, REVERSAL

from ..models.prepaid_recharge import OPERATIONS


class PrepaidRechargeWizard(models.TransientModel):
    """The cashier's screen: recharge, refund, or reverse a mistaken one."""

    _name = "prepaid.recharge.wizard"
    _inherit = ["prepaid.channel.mixin"]
    _description = "Recharge, refund or reverse"

    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        required=True,
        domain="[('state', '=', 'open')]",
        help="Type the account number, the tenant, the unit, a meter serial or a phone number.",
    )
    company_id = fields.Many2one(related="account_id.company_id")
    currency_id = fields.Many2one(related="account_id.currency_id")
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant")
    unit_id = fields.Many2one(related="account_id.unit_id", string="Unit")
    balance = fields.Monetary(related="account_id.balance", string="Current balance")
    operation = fields.Selection(OPERATIONS, required=True, default=RECHARGE)
    payment_type = fields.Selection(compute="_compute_payment_type")
    amount = fields.Monetary(compute="_compute_amount", store=True, readonly=False)
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
            wizard.payment_type = "inbound" if wizard.operation == RECHARGE else "outbound"

    @api.depends("reversed_recharge_id")
    def _compute_amount(self):
        for wizard in self:
            if wizard.reversed_recharge_id:
                wizard.amount = wizard.reversed_recharge_id.amount

    def action_confirm(self):
        """Create and book the document; returns its receipt, or its form while it
        waits for a manager's approval."""
        self.ensure_one()
        # a reversal takes back the whole of its target
        reversal = self.operation == REVERSAL
        # All or nothing: a refused request leaves no draft, payment or line behind.
        with self.env.cr.savepoint():
            recharge = self.env["prepaid.recharge"].create(
                self._prepare_recharge_vals(
                    self.account_id,
                    self.reversed_recharge_id.amount if reversal else self.amount,
                    operation=self.operation,
                    reason=self.reason,
                    external_reference=self.external_reference or False,
                    reversed_recharge_id=self.reversed_recharge_id.id if reversal else False,
                )
            )
            recharge.action_confirm()
        if recharge.state == "done":
            # the receipt downloads and this dialog closes: no second click books twice
            return dict(recharge.action_print_receipt(), close_on_report_download=True)
        return {
            "type": "ir.actions.act_window",
            "res_model": "prepaid.recharge",
            "res_id": recharge.id,
            "view_mode": "form",
            "target": "current",
        }
