"""Overdue fees trip the meter on a site that says so, verified on the simulator's relay;
paying the fee invoices closes it on the next cycle; keep-power and the site setting
hold it back; a meter in arrears and with fees due closes only once both are cleared."""

from odoo.tests import tagged

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwFeeTrip(HwCase):
    def test_overdue_fees_trip_the_meter_and_paying_them_closes_it(self):
        self.site.trip_on_overdue_fees = True
        account = self.open_metered_account(start=1000, amount=100)
        invoices = self.overdue_fee_invoices(account)
        self.assertTrue(account.fee_disconnection_due)
        self.set_register(1010)  # 10 kWh at 0.50: 95.00 left, far from arrears
        self.read_cycle()
        self.assertAlmostEqual(account.balance, 95.0)
        self.assertFalse(account.in_arrears)
        trip = self.commands(action="trip")
        self.assertEqual(len(trip), 1)
        self.assertEqual((trip.policy_code, trip.open_reason), ("fees_trip", "fees"))
        self.assertEqual(self.applied(), [], "queued, not sent yet")
        self.run_commands()
        self.assertEqual(trip.state, "verified")
        self.assertEqual(self.applied(), ["trip"])
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertEqual(
            (self.meter.relay_state, self.meter.relay_open_reason, self.meter.state),
            ("open", "fees", "tripped"),
        )
        self.assertEqual(
            self.policy_messages().mapped("body"),
            ["<p>Policy: fee invoices overdue: trip [fees_trip]</p>"],
        )
        # the next cycle reads it open for the fees: it stays so, no new command, and a
        # wallet in credit with fees unpaid is not "paid but still off"
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "still_fees_due")
        self.assertEqual(self.meter.relay_open_reason, "fees")
        self.assertEqual(len(self.commands()), 1)
        self.assertFalse(self.meter.paid_but_off_since)
        self.assertFalse(self.meter.paid_but_off)

        self.pay_invoices(invoices)
        account.invalidate_recordset()
        self.assertFalse(account.fee_disconnection_due)
        self.assertFalse(self.sim_meter().relay_closed, "the next cycle closes it")
        self.read_cycle()
        close = self.commands(action="close")
        self.assertEqual(len(close), 1)
        self.assertEqual((close.origin, close.policy_code), ("policy", "fees_cleared"))
        self.run_commands()
        self.assertEqual(close.state, "verified")
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertEqual((self.meter.relay_state, self.meter.relay_open_reason), ("closed", False))
        self.assertEqual(self.meter.state, account.alarm_level)
        # and it stays closed
        self.read_cycle()
        self.run_commands()
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertEqual(self.meter.policy_code, "balance_ok")

    def _assert_cycles_leave_the_relay_closed(self):
        """Two read cycles and the command runner: no command, the relay closed on the wire."""
        self.read_cycle()
        self.read_cycle()
        self.run_commands()
        self.assertFalse(self.commands())
        self.assertEqual(self.applied(), [])
        self.assertTrue(self.sim_meter().relay_closed)

    def test_site_setting_off_never_trips_for_fees(self):
        account = self.open_metered_account(start=1000, amount=100)
        self.overdue_fee_invoices(account)
        self.assertTrue(account.has_overdue_fees)
        self.assertFalse(account.fee_disconnection_due, "the site does not trip for fees")
        self._assert_cycles_leave_the_relay_closed()
        self.assertEqual(self.meter.policy_code, "balance_ok")
        # the same account once the site's manager turns the setting on
        self.site.with_user(self.manager).trip_on_overdue_fees = True
        self.read_cycle()
        self.run_commands()
        self.assertEqual(self.applied(), ["trip"])
        self.assertFalse(self.sim_meter().relay_closed)

    def test_keep_power_meter_is_not_tripped_for_fees(self):
        self.site.trip_on_overdue_fees = True
        self.meter.keep_power = True
        account = self.open_metered_account(start=1000, amount=100)
        self.overdue_fee_invoices(account)
        self.assertTrue(account.fee_disconnection_due)
        self._assert_cycles_leave_the_relay_closed()
        self.assertEqual(self.meter.policy_code, "keep_power")
        self.assertIn("fee invoices overdue", self.meter.policy_reason)
        self.assertEqual(len(self.policy_messages()), 1, "logged once, not once per cycle")

    def test_arrears_and_fees_close_only_once_both_are_cleared(self):
        self.site.trip_on_overdue_fees = True
        account = self.open_metered_account(start=1000, amount=10)
        invoices = self.overdue_fee_invoices(account)
        self.set_register(1100)  # 100 kWh: 50.00 against 10.00 of credit
        self.read_cycle()
        self.assertTrue(account.in_arrears)
        trip = self.commands(action="trip")
        self.assertEqual((trip.policy_code, trip.open_reason), ("arrears_trip", "arrears"))
        self.run_commands()
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertEqual(self.meter.relay_open_reason, "arrears")
        # a recharge restores the credit, but the fees are still overdue: no close
        self._recharge(account, 100)
        self.assertFalse(account.in_arrears)
        self.assertFalse(self.commands(action="close"))
        self.assertEqual(self.meter.policy_code, "still_fees_due")
        self.assertEqual(self.meter.relay_open_reason, "fees", "now open for the fees")
        self.read_cycle()
        self.run_commands()
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertEqual(self.applied(), ["trip"])
        # the fees paid: the next cycle closes it
        self.pay_invoices(invoices)
        self.read_cycle()
        self.assertEqual(self.commands(action="close").policy_code, "fees_cleared")
        self.run_commands()
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertEqual(self.applied(), ["trip", "close"])
