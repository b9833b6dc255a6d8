from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    prepaid_account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
        help="The wallet this invoice line bills: a tenant's invoice may bill several. "
        "Copied to credit notes, which give each wallet its part back.",
    )
