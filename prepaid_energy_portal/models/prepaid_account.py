import datetime
import secrets
from decimal import Decimal

from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools import timezone
from odoo.tools import SQL, consteq

from prepaid_energy_core import selfservice, wallet

#: context key: the tenant hears of this message through the portal's notifications
#: (their channels, their quiet hours), not as a follower of the account
TENANT_TOLD_BY_PORTAL = "prepaid_portal_tells_tenant"
#: unambiguous characters (no 0/O, 1/I/L): read off a receipt and typed on a phone
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
#: full days of spending the run-out projection averages
RUN_OUT_WINDOW_DAYS = 14


def normalize_code(code):
    """A portal code as typed ("abcd-efgh ") in its stored form ("ABCDEFGH")."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


class PrepaidAccount(models.Model):
    _name = "prepaid.account"
    _inherit = ["prepaid.account", "portal.mixin"]

    portal_code = fields.Char(
        copy=False,
        readonly=True,
        help="Printed on the tenant's receipts. With the account number (or a meter "
        "serial) it proves the receipt is in their hands when they ask to link their "
        "portal login to this account.",
    )
    portal_transaction_ids = fields.One2many(
        "payment.transaction", "prepaid_account_id", string="Online payments"
    )

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for account in self:
            account.access_url = f"/my/prepaid/accounts/{account.id}"
        return result

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        accounts.filtered(lambda account: not account.portal_code)._portal_new_code()
        return accounts

    # ------------------------------------------------------------------ binding proof

    def _portal_new_code(self):
        """Give each account a new random portal code (the old one stops working)."""
        for account in self:
            code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
            account.sudo().portal_code = code
        return True

    def action_portal_new_code(self):
        """Staff: a code was given away; print the next receipt with a new one."""
        self.check_access("write")
        self._portal_new_code()
        for account in self:
            account.message_post(body=self.env._("New portal code issued."))
        return True

    def _portal_code_matches(self, code):
        """Whether ``code`` is this account's portal code (constant-time comparison)."""
        self.ensure_one()
        stored = self.sudo().portal_code
        given = normalize_code(code)
        return bool(stored and given) and consteq(stored, given)

    def _portal_code_display(self):
        """The code as printed: two groups of four."""
        self.ensure_one()
        code = self.sudo().portal_code or ""
        return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code

    # ------------------------------------------------------------------ what the tenant sees

    def _portal_meters(self):
        self.ensure_one()
        return self.meter_ids.filtered("active").sorted(lambda meter: (meter.utility, meter.serial))

    def _portal_as_of(self):
        """The moment the balance is known at: every meter is billed up to it (the
        earliest of the meters' last billed readings), or the last posting's date."""
        self.ensure_one()
        moments = [
            meter.priced_reading_id.timestamp
            for meter in self._portal_meters()
            if meter.priced_reading_id
        ]
        if moments:
            return min(moments)
        return self.ledger_line_ids[:1].date or self.date_open

    def _portal_format_time(self, moment):
        """``moment`` (naive UTC) on the site's clock, in the reader's language."""
        self.ensure_one()
        if not moment:
            return ""
        return timezone.format_local(self.env, moment, self._site_zone())

    def _portal_local_today(self):
        return timezone.local_date(fields.Datetime.now(), self._site_zone())

    def _portal_available(self):
        """What may still be consumed before disconnection, as Decimal."""
        self.ensure_one()
        return wallet.available_credit(
            self._to_decimal(self.balance), self._get_wallet_thresholds(), self._get_wallet_credit()
        )

    def _portal_run_out(self):
        """The core's projection (RunOut) at the spending rate of the last 14 days, or None.

        The rate is what the priced charges of those days cost over the time they
        cover (a charge covers the intervals of one band in one pricing run), plus
        the fees for those days, each spread over the period it pays for.
        """
        self.ensure_one()
        if self.state != "open":
            return None
        now = fields.Datetime.now()
        since = now - datetime.timedelta(days=RUN_OUT_WINDOW_DAYS)
        self.env["prepaid.charge"].flush_model(["account_id", "date_start", "date_end", "amount"])
        self.env["prepaid.ledger.line"].flush_model(["account_id", "kind", "amount", "date"])
        self.env["prepaid.fee.charge"].flush_model(["ledger_line_id", "period_start", "period_end"])
        self.env["prepaid.apportionment.share"].flush_model(["ledger_line_id", "period_start"])
        [(charged, first, last)] = self.env.execute_query(
            SQL(
                "SELECT SUM(amount), MIN(date_start), MAX(date_end) FROM prepaid_charge"
                " WHERE account_id = %s AND date_start >= %s",
                self.id,
                since,
            )
        )
        if not charged:
            return None
        # the fees whose period meets the window (whenever they were posted), each with
        # the period it pays for (a fee charge's, a common-area run's); one-offs posted
        # in the window
        today = self._portal_local_today()
        first_day = today - datetime.timedelta(days=RUN_OUT_WINDOW_DAYS - 1)
        fees = self.env.execute_query(
            SQL(
                "SELECT amount, period_start, period_end FROM ("
                "   SELECT -l.amount AS amount, l.date,"
                "          COALESCE(c.period_start, s.period_start) AS period_start,"
                "          COALESCE(c.period_end, s.period_end) AS period_end"
                "     FROM prepaid_ledger_line l"
                "     LEFT JOIN prepaid_fee_charge c ON c.ledger_line_id = l.id"
                "     LEFT JOIN prepaid_apportionment_share s ON s.ledger_line_id = l.id"
                "    WHERE l.account_id = %(account)s AND l.kind = 'fee'"
                " ) fee"
                " WHERE period_end >= %(first)s AND period_start <= %(today)s"
                "    OR period_start IS NULL AND date >= %(since)s",
                account=self.id,
                first=first_day,
                today=today,
                since=since,
            )
        )
        covered = last - first
        spent = self._to_decimal(charged) + selfservice.fees_over(
            [(self._to_decimal(amount), start, end) for amount, start, end in fees],
            first_day,
            today,
            covered,
        )
        return selfservice.projected_run_out(self._portal_available(), spent, covered, today)

    def _portal_supply_summary(self):
        """``[(meter, supply state)]`` of the account's meters, supply on/off/unknown."""
        self.ensure_one()
        return [(meter, meter._portal_supply_state()) for meter in self._portal_meters()]

    # ------------------------------------------------------------------ top-up

    def _portal_topup_presets(self):
        self.ensure_one()
        return selfservice.parse_presets(self.site_id.portal_topup_presets)

    def _portal_topup_refusal(self, amount):
        """Why an online top-up of ``amount`` (Decimal) cannot be paid, translated, or None."""
        self.ensure_one()
        if self.state != "open":
            return self.env._("This account is not open: it cannot be topped up.")
        site = self.site_id
        cap = self._get_max_balance()
        refusal = selfservice.check_topup(
            amount,
            minimum=self._to_decimal(site.portal_topup_min) if site else None,
            maximum=self._to_decimal(site.portal_topup_max) if site else None,
            balance=self._to_decimal(self.balance),
            max_balance=cap,
        )
        if refusal is None:
            return None
        params = {
            name: self._format_amount(value) if isinstance(value, Decimal) else value
            for name, value in refusal.params.items()
        }
        messages = {
            "topup.not_positive": self.env._("Give an amount above zero."),
            "topup.below_minimum": self.env._(
                "The smallest online top-up is %(minimum)s.",
                minimum=self._format_amount(site.portal_topup_min),
            ),
            "topup.above_maximum": self.env._(
                "The largest online top-up is %(maximum)s.",
                maximum=self._format_amount(site.portal_topup_max),
            ),
            "topup.above_max_balance": self.env._(
                "The balance may not exceed %(maximum)s: at most %(room)s can be added now.",
                maximum=params.get("maximum"),
                room=params.get("room"),
            ),
        }
        return messages[refusal.code]

    # ------------------------------------------------------------------ notifications

    def _notify_alarms(self, notifications):
        """The chatter keeps its message for staff; the tenant is told by the portal's
        notifications, on their channels and outside their quiet hours."""
        self.ensure_one()
        result = super(
            PrepaidAccount, self.with_context(**{TENANT_TOLD_BY_PORTAL: True})
        )._notify_alarms(notifications)
        if self.env.context.get("prepaid_closing_account_id") == self.id:
            return result
        # the posting that crossed: a later crossing of the same level is another event
        anchor = self._portal_last_line_id()
        Notification = self.env["prepaid.notification"].sudo()
        for notification in notifications:
            Notification._notify(
                self,
                notification.level,
                f"{notification.level}:{anchor}",
                balance=float(notification.balance),
                threshold=float(notification.threshold),
            )
        return result

    def _portal_last_line_id(self):
        self.ensure_one()
        Line = self.env["prepaid.ledger.line"]
        Line.flush_model(["account_id"])
        rows = self.env.execute_query(
            SQL("SELECT MAX(id) FROM prepaid_ledger_line WHERE account_id = %s", self.id)
        )
        return rows[0][0] or 0

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        recipients = super()._notify_get_recipients(message, msg_vals, **kwargs)
        if not self.env.context.get(TENANT_TOLD_BY_PORTAL):
            return recipients
        # staff following the account still get it; tenants (shared partners) do not
        return [recipient for recipient in recipients if not recipient.get("share")]
