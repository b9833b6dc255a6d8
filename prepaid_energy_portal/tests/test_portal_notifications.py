"""Tenant notifications: each event once, by the tenant's channels, after quiet hours.

The evidence is what Odoo queues: mail.mail records (sent by the mail queue cron)
and sms.sms records (sent by the SMS cron), never a provider called from here.
"""

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .common import PortalCase

ALICE_MOBILE = "+8613800000001"


@tagged("post_install", "-at_install")
class TestPortalNotifications(PortalCase):
    def setUp(self):
        super().setUp()
        self.preference = (
            self.env["prepaid.notification.preference"]
            .sudo()
            .create({"partner_id": self.tenant.id, "quiet_hour_start": 0.0, "quiet_hour_end": 0.0})
        )
        # what the set-up's recharges notified is not this test's
        self.last_notification = (
            self.env["prepaid.notification"].search([], order="id desc", limit=1).id
        )
        self.last_sms = self.env["sms.sms"].sudo().search([], order="id desc", limit=1).id

    def _notifications(self, event=None):
        domain = [("account_id", "=", self.account.id), ("id", ">", self.last_notification)]
        if event:
            domain.append(("event", "=", event))
        return self.env["prepaid.notification"].search(domain, order="id")

    def _sms(self):
        return (
            self.env["sms.sms"]
            .sudo()
            .search([("number", "=", ALICE_MOBILE), ("id", ">", self.last_sms)], order="id")
        )

    def _mails(self, notifications):
        return (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "prepaid.notification"), ("res_id", "in", notifications.ids)])
        )

    def _to_balance(self, target):
        """Consume down to ``target`` the way the pricing does."""
        self.account.invalidate_recordset(["balance"])
        self._consume(self.account, round(self.account.balance - target, 2))

    def test_each_alarm_crossing_is_told_once_by_mail_and_sms(self):
        self._to_balance(45.0)  # alarm 1 (50.00)
        alarm1 = self._notifications("alarm1")
        self.assertEqual(len(alarm1), 1)
        self.assertEqual(alarm1.state, "sent")
        self.assertEqual((alarm1.email_count, alarm1.sms_count), (1, 1))
        mail = self._mails(alarm1)
        self.assertEqual(mail.recipient_ids, self.user_a.partner_id)  # the main contact
        self.assertIn(self.account.name, mail.subject)
        self.assertIn("45.00", mail.body_html)
        self.assertIn(f"/my/prepaid/accounts/{self.account.id}", mail.body_html)
        sms = self._sms()
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.state, "outgoing")  # queued for the SMS cron
        self.assertIn(self.account.name, sms.body)
        self.assertIn("45.00", sms.body)

        self._to_balance(30.0)  # still alarm 1: nothing new
        self.assertEqual(len(self._notifications()), 1)
        self._to_balance(10.0)  # alarm 2 (20.00)
        self._to_balance(-5.0)  # arrears (0.00)
        self.assertEqual(self._notifications().mapped("event"), ["alarm1", "alarm2", "arrears"])
        self.assertEqual(len(self._sms()), 3)

        recharge = self._cash_recharge(self.account, 200.0)  # 195.00: normal again
        told = self._notifications("recharge")
        self.assertEqual((len(told), told.recharge_id), (1, recharge))
        self.assertIn("200.00", self._mails(told).body_html)
        self._to_balance(40.0)  # a new crossing of alarm 1
        self.assertEqual(len(self._notifications("alarm1")), 2)
        self.assertEqual(len(self._sms()), 5)

    def test_the_alarm_note_reaches_staff_but_not_the_tenant_twice(self):
        self.account.message_subscribe(
            partner_ids=(self.user_a.partner_id | self.officer.partner_id).ids
        )
        self._to_balance(45.0)
        message = self._alarm_messages(self.account)
        self.assertEqual(len(message), 1, "the account's chatter keeps its alarm message")
        notified = message.notification_ids.res_partner_id
        self.assertIn(self.officer.partner_id, notified)
        self.assertFalse(notified & (self.tenant | self.user_a.partner_id))
        # the tenant heard of it once: the portal's own e-mail
        self.assertEqual(len(self._mails(self._notifications("alarm1"))), 1)

    def test_quiet_hours_hold_a_notification_until_they_end(self):
        self.preference.write({"quiet_hour_start": 22.0, "quiet_hour_end": 7.0})  # site: UTC
        with freeze_time("2026-03-10 23:30:00"):
            self._to_balance(45.0)
            alarm1 = self._notifications("alarm1")
            self.assertEqual(alarm1.state, "queued")
            self.assertEqual(str(alarm1.scheduled_date), "2026-03-11 07:00:00")
            self.assertFalse(self._sms())
            # a recharge's confirmation answers the tenant's own act: never held back
            self._cash_recharge(self.account, 10.0)
            self.assertEqual(self._notifications("recharge").state, "sent")
        cron = self.env.ref("prepaid_energy_portal.ir_cron_prepaid_notifications")
        with freeze_time("2026-03-11 06:59:00"):
            cron.method_direct_trigger()
            self.assertEqual(alarm1.state, "queued")
        with freeze_time("2026-03-11 07:05:00"):
            cron.method_direct_trigger()
            self.assertEqual(alarm1.state, "sent")
        self.assertEqual(len(self._sms()), 2)  # the recharge's, then the alarm's

    def test_quiet_hours_follow_the_site_clock(self):
        self.site.tz = "Asia/Shanghai"  # UTC+8
        self.preference.write({"quiet_hour_start": 22.0, "quiet_hour_end": 7.0})
        with freeze_time("2026-03-10 15:30:00"):  # 23:30 in Shanghai
            self._to_balance(45.0)
            alarm1 = self._notifications("alarm1")
            self.assertEqual(str(alarm1.scheduled_date), "2026-03-10 23:00:00")  # 07:00 there

    def test_the_tenant_chooses_channels_and_events(self):
        self.preference.write({"sms_enabled": False, "event_alarm2": False})
        self._to_balance(45.0)
        alarm1 = self._notifications("alarm1")
        self.assertEqual((alarm1.email_count, alarm1.sms_count), (1, 0))
        self.assertFalse(self._sms())
        self._to_balance(10.0)
        alarm2 = self._notifications("alarm2")
        self.assertEqual(alarm2.state, "skipped")
        self.assertFalse(self._mails(alarm2))
        self.preference.write(
            {"recipient_ids": [(6, 0, (self.user_a.partner_id | self.user_a2.partner_id).ids)]}
        )
        self._to_balance(-1.0)
        arrears = self._notifications("arrears")
        self.assertEqual(
            self._mails(arrears).recipient_ids, self.user_a.partner_id | self.user_a2.partner_id
        )

    def test_no_way_to_reach_anyone_is_recorded(self):
        self.user_a.partner_id.write({"email": False, "mobile": False, "phone": False})
        self._to_balance(45.0)
        alarm1 = self._notifications("alarm1")
        self.assertEqual(alarm1.state, "skipped")
        self.assertIn("No recipient", alarm1.note)

    def test_trip_and_restore_are_told_once_per_change(self):
        meter = self.meter
        meter.state = "tripped"
        meter.state = "offline"  # nothing known about the relay: no news
        meter.state = "tripped"  # the same trip, seen again
        self.assertEqual(self._notifications().mapped("event"), ["tripped"])
        tripped = self._notifications("tripped")
        self.assertEqual(tripped.meter_id, meter)
        self.assertIn("EL-0001", self._sms()[0].body)
        meter.state = "normal"
        meter.state = "alarm1"
        self.assertEqual(self._notifications().mapped("event"), ["tripped", "restored"])
        meter.state = "tripped"  # a new trip
        self.assertEqual(len(self._notifications("tripped")), 2)

    def test_an_event_is_recorded_once_whoever_reports_it(self):
        Notification = self.env["prepaid.notification"].sudo()
        first = Notification._notify(self.account, "tripped", "tripped:test:1", meter=self.meter)
        again = Notification._notify(self.account, "tripped", "tripped:test:1", meter=self.meter)
        self.assertTrue(first)
        self.assertFalse(again)
        self.assertEqual(len(Notification.search([("key", "=", "tripped:test:1")])), 1)

    def test_closing_an_account_does_not_ask_the_departing_tenant_to_recharge(self):
        self.account.with_context(prepaid_closing_account_id=self.account.id)._notify_alarms(
            [type("N", (), {"level": "alarm1", "balance": 1, "threshold": 50})()]
        )
        self.assertFalse(self._notifications())

    def test_staff_digest_lists_meters_in_alarm_and_arrears_once_a_day(self):
        self._to_balance(10.0)  # tenant A: alarm 2
        self.account_b.invalidate_recordset(["balance"])
        self._consume(self.account_b, round(self.account_b.balance + 3, 2), meter=self.meter_b)
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search([("model", "=", "res.company")])
        cron = self.env.ref("prepaid_energy_portal.ir_cron_prepaid_staff_digest")
        cron.method_direct_trigger()
        digest = (
            Mail.search([("model", "=", "res.company"), ("res_id", "=", self.company.id)]) - before
        )
        self.assertEqual(len(digest), 1)
        self.assertIn(self.officer.partner_id, digest.recipient_ids)
        self.assertIn(self.manager.partner_id, digest.recipient_ids)
        self.assertNotIn(self.user_a.partner_id, digest.recipient_ids)
        body = digest.body_html
        arrears_at, alarm2_at = body.index("In arrears"), body.index("Alarm 2")
        self.assertLess(arrears_at, body.index("EL-0901"))  # B in arrears
        self.assertLess(body.index("EL-0901"), alarm2_at)
        self.assertLess(alarm2_at, body.index("EL-0001"))  # A's meters at alarm 2
        self.assertIn("WA-0001", body)
        cron.method_direct_trigger()
        self.assertEqual(Mail.search([("model", "=", "res.company")]) - before, digest)

    @mute_logger("odoo.sql_db")
    def test_recording_an_event_never_hides_the_callers_own_error(self):
        """A second recharge with a channel reference already booked must fail as
        itself. The event is recorded inside a savepoint; the caller's pending writes
        (here the duplicate reference) were once flushed in it, their UniqueViolation
        taken for the event's own duplicate, and the transaction left aborted."""
        wizard_values = {
            "account_id": self.account.id,
            "operation": "recharge",
            "amount": 10.0,
            "journal_id": self.cash_journal.id,
            "external_reference": "TXN-PORTAL-1",
        }
        Wizard = self.env["prepaid.recharge.wizard"].with_user(self.cashier)
        Wizard.create(wizard_values).action_confirm()
        with self.assertRaises(IntegrityError):
            Wizard.create(wizard_values).action_confirm()
        self.assertEqual(len(self._notifications("recharge")), 1)
