"""The read cycle through its cron against simulated meters: readings, charges and the
ledger; the policy's trip, verified on the simulator's relay; a recharge that closes it;
keep-power, quiet hours, supply schedules and overload reconnects."""

import datetime

from odoo import Command, fields
from odoo.tests import tagged

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwCycle(HwCase):
    def test_read_cron_reads_meters_and_bills_them(self):
        account = self.open_metered_account(start=1000, amount=100)
        self.set_register(1010)
        self.read_cycle()
        reading = self.meter.last_reading_id
        self.assertEqual(reading.source, "hardware")
        self.assertAlmostEqual(reading.total, 1010.0)
        self.assertEqual(reading.state, "priced")
        self.assertTrue(reading.charge_ids, "the cycle priced the reading")
        # 10 kWh at the flat 0.50
        self.assertAlmostEqual(sum(reading.charge_ids.mapped("amount")), 5.0)
        self.assertAlmostEqual(account.balance, 95.0)
        consumption = account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")
        self.assertAlmostEqual(sum(consumption.mapped("amount")), -5.0)
        self.assertEqual(self.meter.hw_online_state, "online")
        self.assertEqual(self.meter.relay_state, "closed")
        self.assertEqual(self.gateway.online_state, "online")
        self.assertIn("read", self.gateway.last_cycle_summary)
        self.assertFalse(self.commands(), "a meter in credit gets no command")

    def test_a_meter_without_profile_is_read_on_the_bus_default(self):
        # one meter without a profile once stopped the whole cycle ("Expected singleton")
        self.gateway.default_profile_id = False
        self.meter.profile_id = False
        self.assertFalse(self.meter.effective_profile_id)
        self.open_metered_account(start=1000, amount=100)
        self.set_register(1010)
        self.read_cycle()
        self.assertAlmostEqual(self.meter.last_reading_id.total, 1010.0)
        self.assertEqual(self.meter.hw_online_state, "online")

    def test_cycle_stores_its_readings_priced_in_one_write(self):
        """A cycle writes each reading once, priced (no insert then update), and the
        policy runs once after the posting: one trip command, one policy message."""
        account = self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)  # into arrears within the cycle
        self.env.flush_all()
        before = self._reading_row_changes()
        self.read_cycle()
        inserted, updated = (a - b for a, b in zip(self._reading_row_changes(), before))
        self.assertEqual((inserted, updated), (1, 0), "stored once, priced")
        self.assertEqual(self.meter.last_reading_id.state, "priced")
        self.assertTrue(account.in_arrears)
        self.assertEqual(len(self.commands(action="trip")), 1)
        self.assertEqual(len(self.policy_messages()), 1)

    def _reading_row_changes(self):
        """Rows of prepaid_reading inserted and updated so far in this transaction
        (PostgreSQL's own count)."""
        self.env.cr.execute(
            "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables"
            " WHERE relname = 'prepaid_reading'"
        )
        return self.env.cr.fetchone()

    def test_arrears_trip_is_sent_and_verified_then_a_recharge_closes_it(self):
        account = self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)  # 100 kWh: 50.00 against 10.00 of credit
        self.read_cycle()
        self.assertTrue(account.in_arrears)
        trip = self.commands(action="trip")
        self.assertEqual(len(trip), 1)
        self.assertEqual(
            (trip.origin, trip.policy_code, trip.state), ("policy", "arrears_trip", "queued")
        )
        self.assertIn("arrears", trip.reason)
        self.assertTrue(self.runner_triggered(), "queuing triggers the command runner")
        self.assertEqual(self.applied(), [], "queued, not sent: nothing reaches the meter yet")

        self.run_commands()
        self.assertEqual(trip.state, "verified")
        self.assertEqual(self.applied(), ["trip"])
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertEqual(len(trip.attempt_ids), 1, "the attempt was journalled before sending")
        self.assertEqual(
            (self.meter.relay_state, self.meter.relay_open_reason, self.meter.state),
            ("open", "arrears", "tripped"),
        )
        self.assertEqual(len(self.policy_messages()), 1)

        # the cashier sells credit: the close is queued in the money transaction, sent after
        recharge = self._recharge(account, 100)
        close = self.commands(action="close")
        self.assertEqual(len(close), 1)
        self.assertEqual(
            (close.origin, close.recharge_id, close.state), ("recharge", recharge, "queued")
        )
        self.assertEqual(close.policy_code, "credit_restored")
        self.assertFalse(self.sim_meter().relay_closed, "no meter I/O inside the recharge")
        self.run_commands()
        self.assertEqual(close.state, "verified")
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertEqual(self.meter.relay_state, "closed")
        self.assertEqual(self.meter.state, account.alarm_level)

        # the next cycles change nothing and log nothing new
        messages = len(self.policy_messages())
        self.read_cycle()
        self.read_cycle()
        self.run_commands()
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertEqual(len(self.policy_messages()), messages + 1)  # credit_restored -> balance_ok

    def test_keep_power_prevents_the_trip(self):
        self.meter.keep_power = True
        account = self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)
        self.read_cycle()
        self.read_cycle()
        self.assertTrue(account.in_arrears)
        self.assertFalse(self.commands())
        self.assertEqual(self.meter.policy_code, "keep_power")
        self.assertEqual(len(self.policy_messages()), 1, "logged once, not once per cycle")
        self.run_commands()
        self.assertEqual(self.applied(), [])
        self.assertTrue(self.sim_meter().relay_closed)

    def test_quiet_hours_delay_the_trip(self):
        hour = fields.Datetime.now().hour  # the site's clock is UTC
        self.site.write({"quiet_hour_start": hour, "quiet_hour_end": (hour + 2) % 24})
        self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "quiet_hours")
        self.assertFalse(self.commands())
        # postponed, not forgiven: once the quiet hours are over the trip goes
        self.site.write({"quiet_hour_start": (hour + 3) % 24, "quiet_hour_end": (hour + 4) % 24})
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "arrears_trip")
        self.run_commands()
        self.assertEqual(self.applied(), ["trip"])

    def test_holidays_and_emergency_credit_keep_the_supply(self):
        calendar = self.env["prepaid.holiday.calendar"].create(
            {
                "name": "No-cut days",
                "holiday_ids": [
                    Command.create(
                        {"name": "Today", "date": fields.Date.today(), "kind": "holiday"}
                    )
                ],
            }
        )
        self.site.no_cut_calendar_id = calendar
        account = self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "no_cut_day")
        self.site.no_cut_calendar_id = False
        account.emergency_credit_amount = 100
        account.action_activate_emergency_credit()
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "balance_ok")
        self.assertFalse(self.commands())
        self.assertEqual(self.applied(), [])

    def test_grace_period_and_protected_tenant(self):
        self.site.grace_hours = 1
        self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "grace_period")
        self.assertTrue(self.meter.arrears_since)
        self.site.grace_hours = 0
        self.tenant.is_protected_tenant = True
        self.read_cycle()
        self.assertEqual(self.meter.policy_code, "protected_tenant")
        self.assertFalse(self.commands())

    def test_overload_reconnects_stop_after_the_daily_cap(self):
        self.site.write({"overload_reconnect_minutes": 0, "overload_max_reconnects": 2})
        self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        sim = self.sim_meter()
        for trip_number in (1, 2, 3):
            with sim.lock:  # the meter's own protection opens the relay
                sim.relay_closed = False
            self.read_cycle()
            self.assertEqual(self.meter.relay_open_reason, "overload", trip_number)
            self.run_commands()
        self.assertEqual(self.applied(), ["close", "close"], "reconnected twice, then no more")
        self.assertFalse(sim.relay_closed)
        self.assertEqual(self.meter.policy_code, "overload_cap_reached")
        self.assertEqual(len(self.meter.overload_trips), 3)
        self.assertEqual(self.meter.state, "tripped")

    def test_supply_schedule_switches_off_and_on(self):
        now = fields.Datetime.now()
        day_type = "weekend" if now.weekday() >= 5 else "workday"
        schedule = self.env["prepaid.supply.schedule"].create(
            {
                "name": "Lights-out",
                "location_ids": [Command.set(self.site.ids)],
                "date_from": now.date() - datetime.timedelta(days=1),
                "period_ids": [
                    Command.create({"day_type": day_type, "hour_from": 0, "hour_to": 24}),
                ],
            }
        )
        self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        trip = self.commands(action="trip")
        self.assertEqual((trip.policy_code, trip.open_reason), ("schedule_off", "schedule"))
        self.run_commands()
        self.assertEqual(self.meter.relay_open_reason, "schedule")
        schedule.date_to = now.date() - datetime.timedelta(days=1)
        schedule.date_from = now.date() - datetime.timedelta(days=2)
        self.read_cycle()
        close = self.commands(action="close")
        self.assertEqual(close.policy_code, "schedule_on")
        self.run_commands()
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertTrue(self.sim_meter().relay_closed)

    def test_paid_but_still_off_raises_an_activity(self):
        self.open_metered_account(start=1000, amount=100)
        self.meter.effective_profile_id.protection_trips = False  # an open relay waits for staff
        sim = self.sim_meter()
        with sim.lock:
            sim.relay_closed = False
        self.read_cycle()
        self.assertEqual(self.meter.relay_state, "open")
        self.assertFalse(self.meter.relay_open_reason, "no reason known: never closed blindly")
        self.assertEqual(self.meter.policy_code, "open_reason_unknown")
        self.assertTrue(self.meter.paid_but_off_since)
        self.read_cycle()
        self.assertTrue(self.meter.paid_but_off)
        activity = self.meter.activity_ids.filtered(lambda a: a.summary == "Paid but still off")
        self.assertEqual(len(activity), 1)
        self.read_cycle()
        self.assertEqual(len(self.meter.activity_ids), 1, "raised once")
        # staff close it: the flag goes
        self.meter.with_user(self.officer).action_hw_close()
        self.run_commands()
        self.assertTrue(sim.relay_closed)
        self.assertFalse(self.meter.paid_but_off)
        command = self.commands(action="close")
        self.assertEqual((command.origin, command.user_id), ("staff", self.officer))
