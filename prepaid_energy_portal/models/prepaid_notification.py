import logging

import psycopg2
from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools import timezone

from prepaid_energy_core import selfservice

_logger = logging.getLogger(__name__)

#: notifications sent per cron call; the cron runs again at once while some are due
SEND_BATCH = 200
#: the database constraint that records an event once
KEY_CONSTRAINT = "prepaid_notification_key_unique"
#: the e-mail and SMS template of each event
TEMPLATES = {
    event: (
        f"prepaid_energy_portal.mail_template_prepaid_{event}",
        f"prepaid_energy_portal.sms_template_prepaid_{event}",
    )
    for event in selfservice.EVENTS
}


class PrepaidNotification(models.Model):
    """One thing a tenant is told, once: queued, held through quiet hours, then sent.

    The key names the event (the level and the posting that crossed it, the trip
    episode, the recharge): the same event is never recorded twice, whoever
    reports it and how often.
    """

    _name = "prepaid.notification"
    _description = "Tenant notification"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    account_id = fields.Many2one(
        "prepaid.account", required=True, index=True, readonly=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(
        related="account_id.partner_id", string="Tenant", store=True, index=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="account_id.currency_id")
    meter_id = fields.Many2one("prepaid.meter", readonly=True, index="btree_not_null")
    recharge_id = fields.Many2one("prepaid.recharge", readonly=True, index="btree_not_null")
    event = fields.Selection(list(selfservice.EVENT_LABELS), required=True, readonly=True)
    key = fields.Char(required=True, readonly=True, help="Names the event: recorded once.")
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    scheduled_date = fields.Datetime(
        string="Send at", required=True, readonly=True, index=True, help="After quiet hours."
    )
    sent_date = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("skipped", "Not sent")],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    balance = fields.Monetary(readonly=True, help="The balance when it happened.")
    threshold = fields.Monetary(readonly=True, help="The alarm threshold crossed.")
    email_count = fields.Integer(string="E-mails", readonly=True)
    sms_count = fields.Integer(string="SMS", readonly=True)
    note = fields.Char(readonly=True, help="Why nothing was sent.")

    _sql_constraints = [
        ("key_unique", "UNIQUE(account_id, key)", "An event is notified once."),
    ]

    def _compute_display_name(self):
        labels = dict(self._fields["event"]._description_selection(self.env))
        for notification in self:
            notification.display_name = (
                f"{labels.get(notification.event, '')} - {notification.account_id.name or ''}"
            )

    # ------------------------------------------------------------------ record and send

    @api.model
    def _notify(self, account, event, key, meter=None, recharge=None, balance=None, threshold=None):
        """Record that ``event`` happened to ``account`` (once per ``key``) and send it
        now, or when the tenant's quiet hours end.

        Runs inside the business transaction (a posting, a meter state change):
        sending only queues an e-mail (mail.mail) and SMS (sms.sms) for their own
        crons, nothing leaves the database before commit.
        """
        account = account.sudo()
        if self.search_count([("account_id", "=", account.id), ("key", "=", key)], limit=1):
            return self.browse()
        now = fields.Datetime.now()
        vals = {
            "account_id": account.id,
            "event": event,
            "key": key,
            "date": now,
            "scheduled_date": self._scheduled_date(account, event, now),
            "meter_id": meter.id if meter else False,
            "recharge_id": recharge.id if recharge else False,
            "balance": account.balance if balance is None else balance,
            "threshold": threshold or 0.0,
        }
        # the caller's pending writes go first, outside the savepoint: their errors
        # are theirs, never taken for this event's duplicate
        self.env.flush_all()
        try:
            # a concurrent transaction recording the same event wins; this one goes on
            with self.env.cr.savepoint():
                notification = self.with_context(
                    mail_create_nolog=True, mail_create_nosubscribe=True
                ).create(vals)
        except psycopg2.errors.UniqueViolation as error:
            if error.diag.constraint_name != KEY_CONSTRAINT:
                raise
            return self.browse()
        if notification.scheduled_date <= now:
            notification._send()
        return notification

    @api.model
    def _scheduled_date(self, account, event, now):
        """``now``, or the end of the tenant's quiet hours ``now`` falls in (site clock)."""
        if event in selfservice.IMMEDIATE_EVENTS:
            return now
        preference = (
            self.env["prepaid.notification.preference"].sudo()._for_tenant(account.partner_id)
        )
        zone = account._site_zone()
        start, end = preference._quiet_hours()
        until = selfservice.quiet_until(timezone.to_local(now, zone), start, end)
        return timezone.to_utc(until, zone) if until else now

    def _send(self):
        """Send each queued notification by the tenant's channels, to its recipients."""
        for notification in self.filtered(lambda n: n.state == "queued"):
            preference = self.env["prepaid.notification.preference"]._for_tenant(
                notification.account_id.partner_id
            )
            values = {"state": "skipped", "sent_date": fields.Datetime.now()}
            if not preference._wants(notification.event):
                values["note"] = self.env._("The tenant does not want this kind of notification.")
            elif not (preference.email_enabled or preference.sms_enabled):
                values["note"] = self.env._("The tenant turned e-mail and SMS off.")
            else:
                recipients = preference._recipients()
                emails = notification._send_email(recipients) if preference.email_enabled else 0
                texts = notification._send_sms(recipients) if preference.sms_enabled else 0
                values.update(email_count=emails, sms_count=texts)
                if emails or texts:
                    values["state"] = "sent"
                else:
                    values["note"] = self.env._("No recipient has an e-mail address or a phone.")
            notification.write(values)

    def _send_email(self, recipients):
        self.ensure_one()
        recipients = recipients.filtered("email")
        if not recipients:
            return 0
        template = self.env.ref(TEMPLATES[self.event][0])
        template.send_mail(
            self.id,
            email_values={"recipient_ids": [fields.Command.set(recipients.ids)]},
            email_layout_xmlid="mail.mail_notification_light",
        )
        return len(recipients)

    def _send_sms(self, recipients):
        """Queue one SMS per recipient with a phone (sms.sms, sent by the SMS cron)."""
        self.ensure_one()
        recipients = recipients.filtered(lambda partner: partner.mobile or partner.phone)
        if not recipients:
            return 0
        template = self.env.ref(TEMPLATES[self.event][1])
        body = template._render_field("body", self.ids)[self.id]
        self._message_sms(body, partner_ids=recipients.ids, put_in_queue=True)
        return len(recipients)

    @api.model
    def _cron_send_due(self, batch_size=SEND_BATCH):
        """Send the notifications whose quiet hours are over."""
        due = self.search(
            [("state", "=", "queued"), ("scheduled_date", "<=", fields.Datetime.now())],
            order="scheduled_date, id",
        )
        batch = due[:batch_size]
        batch._send()
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(due) - len(batch))
        _logger.info("prepaid notifications: %s sent, %s left", len(batch), len(due) - len(batch))
        return len(batch)

    # ------------------------------------------------------------------ template helpers

    def _portal_event_amount(self):
        """The figure the message gives: the recharge's amount, else the balance."""
        self.ensure_one()
        account = self.account_id
        if self.recharge_id:
            return account._format_amount(self.recharge_id.amount)
        return account._format_amount(self.balance)

    def _portal_balance(self):
        self.ensure_one()
        return self.account_id._format_amount(self.balance)

    def _portal_threshold(self):
        self.ensure_one()
        return self.account_id._format_amount(self.threshold)

    def _portal_when(self):
        self.ensure_one()
        return self.account_id._portal_format_time(self.date)

    def _portal_url(self):
        """Where the tenant acts: the account page (with its token), or its top-up."""
        self.ensure_one()
        return self.account_id.get_base_url() + self.account_id.get_portal_url()
