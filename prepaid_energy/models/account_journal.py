from odoo import models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    def _prepaid_book_cash_directly(self):
        """Let the cash journals' payment methods book straight to their cash account.

        Odoo 18 leaves a fresh Cash journal's methods without an outstanding
        account, and a payment without one books no journal entry until a
        statement matches it. A cash desk has no statement to wait for: the
        money is in the till when the receipt prints, so the journal's own
        cash account is the right outstanding account. Methods that already
        have an account are left alone.
        """
        for journal in self.filtered(lambda journal: journal.type == "cash"):
            methods = (
                journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids
            ).filtered(lambda line: not line.payment_account_id)
            if methods and journal.default_account_id:
                methods.payment_account_id = journal.default_account_id

    def _prepaid_payment_method(self, payment_type):
        """The method a cashier's channel defaults to for ``payment_type``.

        The first "inbound" or "outbound" method that books an entry (has an
        outstanding account), else the first one: the recharge refuses a
        method without an account, so offering it first would only fail.
        """
        methods = (
            self.inbound_payment_method_line_ids
            if payment_type == "inbound"
            else self.outbound_payment_method_line_ids
        )
        return methods.filtered("payment_account_id")[:1] or methods[:1]
