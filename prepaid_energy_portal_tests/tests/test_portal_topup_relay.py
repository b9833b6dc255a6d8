"""An online top-up of a tripped tenant closes the relay: the close is queued in the
money transaction and sent after it, verified on the simulator over TCP."""

from odoo.addons.prepaid_energy_hw.tests.common import HwCase
from odoo.tests import tagged

from .common import TopupCase


@tagged("post_install", "-at_install")
class TestPortalTopupClosesTheRelay(HwCase, TopupCase):
    def test_a_paid_top_up_closes_the_relay_after_commit(self):
        self.set_register(1040)  # past the set-up's readings of EL-0001
        self.account.invalidate_recordset(["balance"])
        self._consume(self.account, round(self.account.balance + 5, 2))  # arrears: -5.00
        self.read_cycle()
        self.run_commands_until_settled()
        self.assertFalse(self.sim_meter().relay_closed, "tripped for arrears")
        self.assertEqual(self.meter.relay_open_reason, "arrears")

        self.authenticate("alice", "alice")
        values, error = self._create_transaction(self.account, 100)
        self.assertFalse(error)
        self._simulate(values["reference"])
        self._poll()  # the status page: the wallet is credited
        recharge = self.env["prepaid.recharge"].search(
            [("account_id", "=", self.account.id), ("payment_transaction_id", "!=", False)]
        )
        self.assertEqual(len(recharge), 1)
        close = self.commands(action="close")
        self.assertEqual(len(close), 1)
        self.assertEqual(
            (close.origin, close.recharge_id, close.state), ("recharge", recharge, "queued")
        )
        self.assertFalse(self.sim_meter().relay_closed, "no meter I/O inside the payment")
        self.assertTrue(self.runner_triggered(), "the runner is woken for after the commit")

        self.run_commands_until_settled()
        self.assertEqual(close.state, "verified")
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertEqual(self.applied(), ["trip", "close"])
        self.read_cycle()
        restored = self.env["prepaid.notification"].search(
            [("account_id", "=", self.account.id), ("event", "=", "restored")]
        )
        self.assertEqual(len(restored), 1)
