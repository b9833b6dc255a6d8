"""Faults injected by the simulator (dead meter, lost request, lost acknowledgement,
gateway restart, CRC errors) end in the right final state, with no command applied
twice; offline meters and gateways, and their return."""

import datetime
import socket
import time

import psycopg2
from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from prepaid_energy_core.simulator.faults import FaultPlan

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwFaults(HwCase):
    def test_dead_meter_goes_offline_and_comes_back(self):
        account = self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        self.assertEqual(self.meter.hw_online_state, "online")
        self.sim_meter().dead = True
        self.read_cycle()
        self.assertEqual(self.meter.hw_missed_cycles, 1)
        self.assertEqual(self.meter.hw_online_state, "online", "one miss is not offline yet")
        self.assertIn("timeout", self.meter.hw_last_error)
        self.read_cycle()
        self.assertEqual((self.meter.hw_online_state, self.meter.state), ("offline", "offline"))
        self.assertTrue(self.meter.hw_offline_since)
        self.assertIn(
            self.meter, self.env["prepaid.meter"].search([("hw_online_state", "=", "offline")])
        )
        self.assertEqual(self.gateway.online_state, "online", "the other meters answer")
        self.sim_meter().dead = False
        self.read_cycle()
        self.assertEqual(self.meter.hw_online_state, "online")
        self.assertEqual(self.meter.state, account.alarm_level)
        self.assertFalse(self.meter.hw_offline_since)
        self.assertIn("online again", self.meter.message_ids[0].body)

    def test_gateway_restart_makes_it_offline_then_it_comes_back(self):
        self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        self.simulator.restart(self.sim, 2.0)
        self.read_cycle()
        self.read_cycle()
        self.assertEqual(self.gateway.online_state, "offline")
        self.assertTrue(self.gateway.offline_since)
        self.assertEqual(self.meter.hw_online_state, "offline")
        offline_report = self.env.ref("prepaid_energy_hw.action_prepaid_gateway_offline")
        listed = self.env["prepaid.gateway"].search(safe_eval(offline_report.domain))
        self.assertIn(self.gateway, listed)
        self.wait_until_listening()
        self.read_cycle()
        self.assertEqual(self.gateway.online_state, "online")
        self.assertEqual(self.meter.hw_online_state, "online")

    def test_silent_gateway_is_found_offline_by_the_detection_cron(self):
        self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        long_ago = fields.Datetime.now() - datetime.timedelta(hours=2)
        self.gateway.write({"last_seen": long_ago})
        self.meter.write({"hw_last_seen": long_ago})
        self.env.ref("prepaid_energy_hw.ir_cron_prepaid_detect_offline").method_direct_trigger()
        self.assertEqual(self.gateway.online_state, "offline")
        self.assertEqual((self.meter.hw_online_state, self.meter.state), ("offline", "offline"))

    def test_lost_acknowledgement_of_a_trip_is_read_back_not_resent(self):
        self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        # the runner's requests to meter 1: 1 relay read-back, 2 the trip (acted, reply lost)
        self.sim.faults = FaultPlan([f"timeout=every:2@{self.meter.bus_address}"])
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.run_commands()
        self.assertEqual(trip.state, "verified")
        self.assertIn("acknowledgement lost", trip.result)
        self.assertEqual(len(trip.attempt_ids), 1)
        self.assertEqual(self.applied(), ["trip"])
        self.assertEqual((self.meter.relay_state, self.meter.relay_open_reason), ("open", "manual"))

    def test_lost_request_is_retried_after_its_backoff(self):
        self.open_metered_account(start=1000, amount=100)
        self.sim.faults = FaultPlan([f"lost=every:2@{self.meter.bus_address}"])
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.run_commands()
        self.assertEqual(trip.state, "sent")
        self.assertIn("not applied yet", trip.last_error)
        self.assertGreater(trip.next_attempt_at, fields.Datetime.now())
        self.run_commands()  # not due yet: nothing happens
        self.assertEqual((trip.state, len(trip.attempt_ids)), ("sent", 1))
        self.sim.faults = FaultPlan()
        self.run_commands(later=60)
        self.assertEqual(trip.state, "verified")
        self.assertEqual(len(trip.attempt_ids), 2)
        self.assertEqual(self.applied(), ["trip"])

    def test_gateway_restart_during_a_command(self):
        self.open_metered_account(start=1000, amount=100)
        self.sim.faults = FaultPlan([f"restart=every:2:1.0@{self.meter.bus_address}"])
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.run_commands()
        self.assertIn(trip.state, ("sent", "acknowledged"))
        self.assertEqual(self.applied(), [], "the restarting gateway dropped the request")
        self.sim.faults = FaultPlan()
        self.wait_until_listening()
        self.run_commands_until_settled()
        self.assertEqual(trip.state, "verified")
        self.assertEqual(self.applied(), ["trip"])

    def test_crc_errors_on_replies(self):
        account = self.open_metered_account(start=1000, amount=100)
        self.set_register(1004)
        # every 2nd reply of meter 1 has a broken CRC: the cycle's retry and the runner's
        # read-back get through
        self.sim.faults = FaultPlan([f"crc=every:2@{self.meter.bus_address}"])
        self.read_cycle()
        self.assertAlmostEqual(self.meter.last_total, 1004.0)
        self.assertAlmostEqual(account.balance, 98.0)
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.run_commands_until_settled()
        self.assertEqual(trip.state, "verified")
        self.assertEqual(self.applied(), ["trip"])
        self.assertGreater(self.sim.faults.injected["crc"], 0)

    def test_dead_meter_command_fails_after_its_tries(self):
        self.open_metered_account(start=1000, amount=100)
        self.sim_meter().dead = True
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        with self.assertRaisesRegex(AssertionError, "commands still open"):
            self.run_commands_until_settled(rounds=trip.max_tries - 1)
        self.run_commands_until_settled()
        self.assertEqual((trip.state, trip.try_count), ("failed", trip.max_tries))
        self.assertIn("gave up", trip.result)
        self.assertFalse(trip.attempt_ids, "never sent: the meter never answered the read-back")
        self.assertIn("failed", self.meter.message_ids[0].body)
        self.sim_meter().dead = False
        self.assertEqual(self.applied(), [])

    def test_newer_command_supersedes_a_queued_one_and_a_late_one_never_acts(self):
        self.open_metered_account(start=1000, amount=100)
        staff = self.meter.with_user(self.officer)
        first_trip = staff._hw_staff_command("trip")
        close = staff._hw_staff_command("close")
        self.assertEqual(first_trip.state, "cancelled")
        self.assertEqual(first_trip.superseded_by_id, close)
        self.run_commands()
        self.assertEqual(close.state, "verified")
        self.assertIn("nothing sent", close.result)
        # a trip whose request was lost is "sent" (outcome unknown) when a close follows:
        # the late trip is superseded and never sent again
        self.sim.faults = FaultPlan([f"lost=every:2@{self.meter.bus_address}"])
        late_trip = staff._hw_staff_command("trip")
        self.run_commands()
        self.assertEqual(late_trip.state, "sent")
        self.sim.faults = FaultPlan()
        second_close = staff._hw_staff_command("close")
        self.run_commands(later=600)
        self.assertEqual(late_trip.state, "cancelled")
        self.assertEqual(second_close.state, "verified")
        self.assertEqual(self.applied(), [])
        self.assertTrue(self.sim_meter().relay_closed)

    def test_command_past_its_deadline_expires_unsent(self):
        self.open_metered_account(start=1000, amount=100)
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        trip.sudo().deadline = fields.Datetime.now() - datetime.timedelta(seconds=1)
        self.run_commands()
        self.assertEqual(trip.state, "expired")
        self.assertEqual(self.applied(), [])

    def test_sent_command_past_its_deadline_is_read_back_then_expires(self):
        self.open_metered_account(start=1000, amount=100)
        self.sim.faults = FaultPlan([f"lost=every:2@{self.meter.bus_address}"])
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.run_commands()
        self.assertEqual((trip.state, len(trip.attempt_ids)), ("sent", 1))
        self.sim.faults = FaultPlan()
        self.run_commands(later=1200)  # past the 15-minute deadline
        self.assertEqual(trip.state, "expired")
        self.assertEqual(len(trip.attempt_ids), 1, "read back, not sent again")
        self.assertEqual(self.applied(), [])

    def test_idempotency_key_queues_once(self):
        Command = self.env["prepaid.meter.command"]
        vals = {
            "meter_id": self.meter.id,
            "action": "read",
            "origin": "system",
            "idempotency_key": "test:read:1",
        }
        first = Command._queue([vals])
        again = Command._queue([vals, dict(vals)])
        self.assertEqual(again, first)
        self.assertEqual(Command.search_count([("idempotency_key", "=", "test:read:1")]), 1)
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation):
            Command.create({**vals, "deadline": fields.Datetime.now()})

    def test_commands_a_meter_cannot_take_are_refused(self):
        self.meter.profile_id = self.env.ref("prepaid_energy_hw.profile_acrel_ddsy1352")
        with self.assertRaisesRegex(Exception, "does not support trip"):
            self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.meter.profile_id = False
        with self.assertRaisesRegex(Exception, "water meters"):
            self.env["prepaid.meter.command"]._queue(
                [{"meter_id": self.meter.id, "action": "valve_close", "origin": "system"}]
            )
        self.assertFalse(self.commands())

    def test_scan_lists_the_addresses_that_answer(self):
        self.sim.meters[self.sim.addresses[2]].dead = True
        with Form(
            self.env["prepaid.gateway.scan.wizard"]
            .with_user(self.officer)
            .with_context(default_gateway_id=self.gateway.id)
        ) as wizard:
            wizard.first_unit = 1
            wizard.last_unit = 6
        record = wizard.record
        record.action_scan()
        found = record.line_ids.mapped("address")
        self.assertEqual(found, ["1", "2", "4"])
        known = record.line_ids.filtered(lambda line: line.meter_id)
        self.assertEqual(known.meter_id, self.meter)

    # ------------------------------------------------------------------ helpers

    def wait_until_listening(self, seconds=10):
        """Wait for the restarted simulated gateway to accept connections again."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.sim.host, self.sim.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.fail("the simulated gateway did not come back")
