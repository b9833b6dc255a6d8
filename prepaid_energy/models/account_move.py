from collections import defaultdict

from odoo import fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    prepaid_account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The wallet this entry books: a recharge, refund, reversal, balance transfer "
        "or period invoice. Passed on to its reversals and credit notes, not to copies.",
    )
    prepaid_ledger_line_ids = fields.One2many(
        "prepaid.ledger.line", "invoice_id", string="Prepaid ledger lines", readonly=True
    )

    def _check_prepaid_taxes_included(self):
        """Tariffs are gross prices: a tax on top would make the invoice exceed the wallet."""
        for move in self:
            excluded = move.invoice_line_ids.tax_ids.filtered(
                lambda tax: not tax.price_include and tax.amount
            )
            if excluded:
                raise UserError(
                    self.env._(
                        "Prepaid tariffs are gross prices, so the taxes of the invoiced products "
                        "must be included in the price. Set 'Included in price' on: %(taxes)s.",
                        taxes=", ".join(excluded.mapped("display_name")),
                    )
                )

    def _check_prepaid_unlocked(self):
        if self.env.context.get("prepaid_allow_reset"):
            return
        locked = self.filtered("prepaid_account_id")
        if locked:
            raise UserError(
                self.env._(
                    "%(moves)s book prepaid wallets and stay posted: reverse a recharge or "
                    "refund from its prepaid document, or correct an invoice with a credit note "
                    "(which gives the amount back to the wallet).",
                    moves=", ".join(locked.mapped("display_name")),
                )
            )

    def button_draft(self):
        self._check_prepaid_unlocked()
        return super().button_draft()

    def _reverse_moves(self, default_values_list=None, cancel=False):
        # A reversal or credit note of a wallet's entry belongs to the same wallet.
        default_values_list = default_values_list or [{} for _move in self]
        for move, default_values in zip(self, default_values_list):
            if move.prepaid_account_id:
                default_values.setdefault("prepaid_account_id", move.prepaid_account_id.id)
        return super()._reverse_moves(default_values_list, cancel=cancel)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._credit_prepaid_wallets()
        return posted

    def _credit_prepaid_wallets(self):
        """A posted credit note of a prepaid invoice gives the amount back to the wallets.

        Each wallet gets back what the credit note's lines for it total (a tenant's
        invoice bills several wallets); a line added by hand, and any cent of tax
        rounding, go to the credit note's own wallet. The lines are linked to the
        credit note, so the integrity report counts them as booked (the credit
        note lowers what was invoiced by the same amount).
        """
        credit_notes = self.filtered(
            lambda move: move.move_type == "out_refund" and move.prepaid_account_id
        )
        if not credit_notes:
            return
        vals_list = []
        for credit_note in credit_notes:
            for account, amount in credit_note._prepaid_credit_shares().items():
                vals_list.append(
                    {
                        "account_id": account.id,
                        "kind": "adjustment",
                        "amount": amount,
                        "description": self.env._(
                            "Credit note %(credit_note)s", credit_note=credit_note.name
                        ),
                        "move_id": credit_note.id,
                    }
                )
        accounts = self.env["prepaid.account"].browse([vals["account_id"] for vals in vals_list])
        accounts.with_context(prepaid_credit_note=True)._post_ledger_lines(vals_list)
        # reconciling touches the tenant's other entries, which the user may not read
        accounts_sudo = accounts.sudo()
        accounts_sudo._reconcile_advances()

    def _prepaid_credit_shares(self):
        """``{prepaid.account: amount}`` this credit note gives back, in company currency."""
        self.ensure_one()
        currency = self.company_currency_id
        total = currency.round(-self.amount_total_signed)
        shares = defaultdict(float)
        for line in self.invoice_line_ids:
            account = line.prepaid_account_id or self.prepaid_account_id
            shares[account] += currency.round(line.price_total)
        shares[self.prepaid_account_id] += total - sum(shares.values())
        return {
            account: currency.round(amount)
            for account, amount in shares.items()
            if not currency.is_zero(amount)
        }
