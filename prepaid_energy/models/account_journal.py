from odoo import api, models

#: where Odoo 18 Community sets a journal's outstanding accounts (menu of the account app)
JOURNALS_MENU = "account.menu_action_account_journal_form"
ACCOUNT_ADMIN_GROUP = "account.group_account_manager"


class AccountJournal(models.Model):
    _inherit = "account.journal"

    @api.model_create_multi
    def create(self, vals_list):
        # A Cash journal is often created after this module: by the chart of
        # accounts a new database loads later, or by an accountant adding a desk.
        journals = super().create(vals_list)
        journals._prepaid_book_cash_directly()
        return journals

    def write(self, vals):
        res = super().write(vals)
        if {"type", "default_account_id"} & set(vals):
            self._prepaid_book_cash_directly()
        return res

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

    def _prepaid_outstanding_account_hint(self, payment_type):
        """Where to give this journal's ``payment_type`` methods an outstanding account.

        The path is read from the menu itself, in the user's language, so it
        names what Odoo Community really shows; only an Invoicing
        administrator sees that menu (and, with this module, the column).
        """
        self.ensure_one()
        path = self.env.ref(JOURNALS_MENU).sudo().complete_name.replace("/", " > ")
        if payment_type == "inbound":
            where = self.env._(
                "%(path)s > %(journal)s, tab Incoming Payments, column Outstanding Receipts "
                "accounts",
                path=path,
                journal=self.display_name,
            )
        else:
            where = self.env._(
                "%(path)s > %(journal)s, tab Outgoing Payments, column Outstanding Payments "
                "accounts",
                path=path,
                journal=self.display_name,
            )
        advice = self.env._(
            "(the journal's own cash or bank account books the money at once; an "
            '"Outstanding" current-asset account waits for the bank statement).'
        )
        if self.env.user.has_group(ACCOUNT_ADMIN_GROUP):
            return self.env._("Set one in %(where)s %(advice)s", where=where, advice=advice)
        return self.env._(
            "Ask an Invoicing administrator to set one in %(where)s %(advice)s",
            where=where,
            advice=advice,
        )
