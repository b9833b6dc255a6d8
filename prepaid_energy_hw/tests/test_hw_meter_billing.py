"""Meters that bill themselves: a recharge pushes its credit with the meter's purchase
count + 1, read back; a lost acknowledgement never credits twice; the drift report
compares the meter's balance with the wallet. And DL/T 645 meters end to end."""

import datetime
from decimal import Decimal

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from prepaid_energy_core.simulator.faults import FaultPlan

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwMeterBilling(HwCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter.billing_side = "meter"

    def setUp(self):
        super().setUp()
        sim = self.sim_meter()
        with sim.lock:
            sim.meter_billing, sim.balance, sim.purchase_count = True, Decimal(0), 0

    def test_recharge_pushes_credit_with_the_purchase_count(self):
        account = self.open_metered_account(start=1000)
        recharge = self._recharge(account, 50)
        push = self.commands(action="push_credit")
        self.assertEqual(len(push), 1)
        self.assertEqual((push.origin, push.recharge_id, push.amount), ("recharge", recharge, 50))
        self.assertEqual(self.sim_meter().balance, 0, "no meter I/O inside the recharge")
        self.run_commands()
        self.assertEqual(push.state, "verified")
        self.assertEqual(push.purchase_count, 1)
        self.assertEqual(push.attempt_ids.purchase_count, 1, "the count was journalled first")
        sim = self.sim_meter()
        self.assertEqual((sim.balance, sim.purchase_count), (Decimal("50"), 1))
        self.assertEqual((self.meter.meter_balance, self.meter.meter_purchase_count), (50, 1))
        self.assertEqual(self.meter.balance_drift, 0)

    def test_lost_acknowledgement_of_a_push_never_credits_twice(self):
        account = self.open_metered_account(start=1000)
        self._recharge(account, 50)
        self.run_commands()
        # the push's requests: 1 count, 2 balance, 3 the push itself (applied, reply lost)
        self.sim.faults = FaultPlan([f"timeout=every:3@{self.meter.bus_address}"])
        self._recharge(account, 20)
        push = self.commands(action="push_credit")[-1]
        self.run_commands()
        self.assertEqual(push.state, "verified", push.result)
        self.assertIn("acknowledgement lost", push.result)
        sim = self.sim_meter()
        self.assertEqual((sim.balance, sim.purchase_count), (Decimal("70"), 2))
        self.assertEqual(self.applied(action="credit"), ["credit", "credit"])

    def test_push_whose_request_was_lost_is_resent_with_the_same_count(self):
        account = self.open_metered_account(start=1000)
        self.sim.faults = FaultPlan([f"lost=every:3@{self.meter.bus_address}"])
        self._recharge(account, 30)
        push = self.commands(action="push_credit")
        self.run_commands()
        self.assertEqual(push.state, "sent")
        self.assertEqual(self.sim_meter().purchase_count, 0)
        self.sim.faults = FaultPlan()
        self.run_commands_until_settled()
        self.assertEqual(push.state, "verified")
        self.assertEqual(push.attempt_ids.mapped("purchase_count"), [1, 1])
        self.assertEqual((self.sim_meter().balance, self.sim_meter().purchase_count), (30, 1))

    def test_meter_that_bills_itself_is_not_tripped_by_the_platform(self):
        account = self.open_metered_account(start=1000)
        self._recharge(account, 10)
        self.run_commands()
        self.set_register(1100)
        self.read_cycle()
        self.assertTrue(account.in_arrears)
        self.assertFalse(self.commands(action="trip"), "the meter cuts itself on its balance")

    def test_drift_report_shows_meter_against_wallet(self):
        account = self.open_metered_account(start=1000)
        self._recharge(account, 50)
        self.run_commands()
        sim = self.sim_meter()
        with sim.lock:
            sim.balance -= Decimal("7.50")  # the meter billed at its own price
        self.read_cycle()
        self.assertEqual(self.meter.meter_balance, 42.5)
        self.assertEqual(self.meter.balance_drift, 42.5 - account.balance)
        report = self.env.ref("prepaid_energy_hw.action_prepaid_meter_drift")
        listed = self.env["prepaid.meter"].search(safe_eval(report.domain))
        self.assertIn(self.meter, listed)


@tagged("post_install", "-at_install")
class TestHwDlt645(HwCase):
    GATEWAYS = {"dlt645": 2}

    def test_dlt645_meter_is_read_billed_tripped_and_closed(self):
        account = self.open_metered_account(start=1000, amount=10)
        self.set_register(1100)
        self.read_cycle()
        self.assertAlmostEqual(self.meter.last_total, 1100.0)
        self.assertTrue(account.in_arrears)
        self.run_commands()
        trip = self.commands(action="trip")
        self.assertEqual(trip.state, "verified", trip.result)
        self.assertEqual(self.applied(), ["trip"])
        self._recharge(account, 100)
        self.run_commands()
        self.assertEqual(self.commands(action="close").state, "verified")
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertTrue(self.sim_meter().relay_closed)

    def test_dlt645_relay_command_carries_its_deadline(self):
        self.open_metered_account(start=1000, amount=100)
        sim = self.sim_meter()
        with sim.lock:  # the meter's clock is an hour ahead: our deadline is past for it
            sim.clock_offset = datetime.timedelta(hours=1)
        trip = self.meter.with_user(self.officer)._hw_staff_command("trip")
        self.run_commands()
        self.assertEqual(trip.state, "failed")
        self.assertIn("refused", trip.result)
        self.assertEqual(self.applied(), [])
        self.assertTrue(sim.relay_closed)
