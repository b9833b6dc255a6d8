import logging

from markupsafe import Markup
from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: operations that bring money in (not a card check, not a refund)
PAYMENT_OPERATIONS = ("online_redirect", "online_direct", "online_token", "offline")


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    prepaid_account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="The wallet this online top-up credits once the provider confirms it.",
    )
    prepaid_recharge_ids = fields.One2many(
        "prepaid.recharge", "payment_transaction_id", string="Prepaid recharge"
    )

    @api.model
    def _compute_reference_prefix(self, provider_code, separator, **values):
        """An online top-up's reference starts with the account number."""
        account_id = values.get("prepaid_account_id")
        if account_id:
            account = self.env["prepaid.account"].sudo().browse(account_id).exists()
            if account:
                return account.name
        return super()._compute_reference_prefix(provider_code, separator, **values)

    # ------------------------------------------------------------------ payment flow

    def _set_done(self, state_message=None, extra_allowed_states=()):
        """Credit the wallet as soon as possible: the post-processing runs in its own
        transaction right after this one commits (cron trigger), whether or not the
        tenant's browser comes back to poll."""
        done = super()._set_done(state_message, extra_allowed_states)
        if done.filtered("prepaid_account_id"):
            self.env.ref("payment.cron_post_process_payment_tx").sudo()._trigger()
        return done

    def _post_process(self):
        """A done top-up becomes exactly one recharge and one payment (the recharge's),
        then the generic post-processing runs (it finds the payment and makes none)."""
        for transaction in self.filtered(
            lambda tx: (
                tx.state == "done" and tx.prepaid_account_id and tx.operation in PAYMENT_OPERATIONS
            )
        ):
            transaction._prepaid_book_recharge()
        return super()._post_process()

    def _prepaid_book_recharge(self):
        """Book this confirmed top-up on its wallet once, whoever calls and how often.

        The transaction row is locked first: a second post-processing of the same
        transaction (the tenant's browser polling, the cron, a duplicate
        notification) waits here, then fails to serialize and is retried, and
        finds the recharge. The UNIQUE constraint on the recharge's transaction
        is the last line. Returns the recharge, or an empty recordset when the
        wallet cannot take it (then the generic post-processing books the
        money as the tenant's unallocated payment and staff are told).
        """
        self.ensure_one()
        self.env.cr.execute(
            SQL("SELECT id FROM payment_transaction WHERE id = %s FOR NO KEY UPDATE", self.id)
        )
        self.invalidate_recordset(["payment_id", "prepaid_recharge_ids", "state"])
        Recharge = self.env["prepaid.recharge"].sudo()
        recharge = Recharge.search([("payment_transaction_id", "=", self.id)], limit=1)
        if recharge:
            if not self.payment_id and recharge.payment_id:
                self.payment_id = recharge.payment_id
            return recharge
        try:
            with self.env.cr.savepoint():
                recharge = Recharge.create(self._prepare_prepaid_recharge_vals())
                recharge.action_confirm()
        except (UserError, ValidationError) as error:
            self._prepaid_report_not_credited(error)
            return Recharge
        self.payment_id = recharge.payment_id
        return recharge

    def _prepare_prepaid_recharge_vals(self):
        self.ensure_one()
        provider = self.provider_id
        journal = provider.journal_id
        method_line = provider._prepaid_payment_method_line()
        operator = self.partner_id.user_ids.filtered("share")[:1] or self.env.ref("base.user_root")
        return {
            "operation": "recharge",
            "account_id": self.prepaid_account_id.id,
            "amount": self.amount,
            "journal_id": journal.id,
            "payment_method_line_id": method_line.id,
            "external_reference": self.reference,
            "payment_transaction_id": self.id,
            "user_id": operator.id,
            "reason": self.env._(
                "Online top-up %(reference)s (%(provider)s)",
                reference=self.reference,
                provider=provider.name,
            ),
        }

    def _prepaid_report_not_credited(self, error):
        """The provider took the money but the wallet cannot take it: staff decide."""
        self.ensure_one()
        account = self.prepaid_account_id.sudo()
        _logger.warning(
            "online top-up %s not credited to %s: %s", self.reference, account.name, error
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Online payment %(reference)s of %(amount)s was confirmed by %(provider)s but "
            "could not be credited: %(error)s It is booked as the tenant's payment; refund "
            "it or credit it by hand.",
            reference=self.reference,
            amount=account._format_amount(self.amount),
            provider=self.provider_id.name,
            error=error.args[0] if error.args else error,
        )
        account.message_post(body=body)
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        account.activity_schedule(
            activity_type_id=activity_type.id if activity_type else False,
            summary=self.env._("Online payment not credited"),
            note=body,
            user_id=account.create_uid.id or self.env.uid,
        )

    def _log_message_on_linked_documents(self, message):
        result = super()._log_message_on_linked_documents(message)
        account = self.prepaid_account_id.sudo()
        if account:
            author = self.env.user.partner_id if self.env.uid == SUPERUSER_ID else self.partner_id
            account.message_post(body=message, author_id=author.id)
        return result
