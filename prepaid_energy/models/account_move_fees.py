from odoo import fields, models


class AccountMove(models.Model):
    # a file of its own: account_move.py is another team's
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    prepaid_fee_account_id = fields.Many2one(
        "prepaid.account",
        string="Fees of prepaid account",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The prepaid account whose fees this invoice bills. Fees collected by invoice "
        "are the tenant's ordinary receivable: the wallet never pays them.",
    )
    prepaid_fee_charge_ids = fields.One2many(
        "prepaid.fee.charge", "invoice_id", string="Fee charges", readonly=True
    )

    def _reverse_moves(self, default_values_list=None, cancel=False):
        # a credit note of a fee invoice still concerns the same account's fees
        default_values_list = default_values_list or [{} for _move in self]
        for move, default_values in zip(self, default_values_list):
            if move.prepaid_fee_account_id:
                default_values.setdefault("prepaid_fee_account_id", move.prepaid_fee_account_id.id)
        return super()._reverse_moves(default_values_list, cancel=cancel)
