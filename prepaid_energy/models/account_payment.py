from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    prepaid_recharge_id = fields.Many2one(
        "prepaid.recharge",
        string="Prepaid recharge",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The recharge or refund of a prepaid account this payment books.",
    )
    prepaid_account_id = fields.Many2one(related="prepaid_recharge_id.account_id")

    def action_draft(self):
        self.filtered("prepaid_recharge_id").prepaid_recharge_id._raise_locked_payment()
        return super().action_draft()

    def action_cancel(self):
        self.filtered("prepaid_recharge_id").prepaid_recharge_id._raise_locked_payment()
        return super().action_cancel()
