"""Relay commands in the operator audit: who asked for which switch, and why, once."""

from odoo.tests import tagged

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwCommandAudit(HwCase):
    def _entries(self, commands):
        return self.env["prepaid.audit.log"].search(
            [
                ("action", "=", "relay_command"),
                ("res_model", "=", "prepaid.meter.command"),
                ("res_id", "in", commands.ids),
            ]
        )

    def test_a_staff_trip_is_audited_with_its_user_and_account(self):
        account = self.open_metered_account(start=1000, amount=100)
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        entry = self._entries(trip)
        self.assertEqual(len(entry), 1)
        self.assertEqual(
            (entry.user_id, entry.account_id, entry.record_name),
            (self.officer, account, trip.display_name),
        )
        self.assertIn(f"Trip of meter {self.meter.serial} queued (Staff)", entry.description)
        self.assertIn(self.officer.name, entry.description)

    def test_a_command_queued_again_under_its_key_is_audited_once(self):
        self.open_metered_account(start=1000, amount=100)
        Command = self.env["prepaid.meter.command"]
        vals = {
            "meter_id": self.meter.id,
            "action": "trip",
            "origin": "system",
            "idempotency_key": "audit-once",
        }
        first = Command._queue([vals])
        again = Command._queue([dict(vals)])
        self.assertEqual(first, again)
        self.assertEqual(len(self._entries(first)), 1)

    def test_a_policy_trip_is_audited_with_its_reason(self):
        account = self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)  # 100 kWh: 50.00 against 10.00 of credit
        self.read_cycle()
        trip = self.commands(action="trip")
        self.assertEqual(trip.origin, "policy")
        entry = self._entries(trip)
        self.assertEqual((len(entry), entry.account_id), (1, account))
        self.assertIn("queued (Policy)", entry.description)
        self.assertIn(trip.reason, entry.description)
