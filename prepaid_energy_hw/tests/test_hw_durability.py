"""A command's attempt is journalled in its own committed transaction before the meter
hears it: when the runner dies after the meter acted (its own transaction rolled back,
the outcome lost), the next run reads the meter back and never applies it twice.

Real transactions on committed data (removed at the end), the simulator over TCP; the
worker's death is injected by making the runner's last step raise.
"""

from decimal import Decimal
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, mute_logger

from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway


class WorkerKilled(Exception):
    """Stands for the runner's worker dying after the bus I/O."""


@tagged("post_install", "-at_install")
class TestHwDurability(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.simulator = SimulatorServer(tick_interval=None).start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.sim = make_gateway("modbus-rtu", 2, gateway_index=7, load_kw=Decimal(0))
        self.simulator.add_gateway(self.sim)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            site = env["prepaid.location"].create(
                {"name": "Durability Park", "location_type": "site", "tz": "UTC"}
            )
            gateway = env["prepaid.gateway"].create(
                {
                    "name": "Durability bus",
                    "site_id": site.id,
                    "protocol": "modbus-rtu",
                    "transport": "tcp",
                    "host": self.sim.host,
                    "port": self.sim.port,
                    "timeout_ms": 300,
                    "default_profile_id": env.ref("prepaid_energy_hw.profile_generic_modbus").id,
                }
            )
            meter = env["prepaid.meter"].create(
                {
                    "serial": "DURABLE-1",
                    "unit_id": site.id,
                    "gateway_id": gateway.id,
                    "bus_address": "1",
                    "billing_side": "meter",
                }
            )
            self.site_id, self.gateway_id, self.meter_id = site.id, gateway.id, meter.id
        self.addCleanup(self._remove_committed_data)

    def _remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for model, res_ids in (
                ("prepaid.meter", [self.meter_id]),
                ("prepaid.gateway", [self.gateway_id]),
            ):
                env["mail.message"].search(
                    [("model", "=", model), ("res_id", "in", res_ids)]
                ).unlink()
                env["mail.followers"].search(
                    [("res_model", "=", model), ("res_id", "in", res_ids)]
                ).unlink()
            cr.execute(SQL("DELETE FROM prepaid_meter_command WHERE meter_id = %s", self.meter_id))
            cr.execute(SQL("DELETE FROM prepaid_meter WHERE id = %s", self.meter_id))
            cr.execute(SQL("DELETE FROM prepaid_gateway WHERE id = %s", self.gateway_id))
            cr.execute(SQL("DELETE FROM prepaid_location WHERE id = %s", self.site_id))

    def _queue(self, action, **values):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            command = env["prepaid.meter.command"]._queue(
                [{"meter_id": self.meter_id, "action": action, "origin": "system", **values}]
            )
            return command.id

    def _run_and_die(self):
        """One runner pass whose worker dies once the bus I/O is over."""
        Command = self.registry["prepaid.meter.command"]
        with (
            patch.object(Command, "_store_results", side_effect=WorkerKilled),
            mute_logger("odoo.sql_db"),
        ):
            with self.assertRaises(WorkerKilled), self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["prepaid.meter.command"]._cron_run_commands()

    def _run(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["prepaid.meter.command"]._cron_run_commands()

    def _command(self, command_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            command = env["prepaid.meter.command"].browse(command_id)
            return (
                command.state,
                command.attempt_ids.mapped("purchase_count"),
                command.result,
            )

    def test_credit_push_survives_the_runner_dying_after_the_meter_applied_it(self):
        sim_meter = self.sim.meters["1"]
        with sim_meter.lock:
            sim_meter.purchase_count, sim_meter.balance = 4, Decimal("1.00")
        command_id = self._queue("push_credit", amount=25.0)
        self._run_and_die()
        # the meter took the credit; the runner's transaction, with the outcome, is gone
        self.assertEqual((sim_meter.purchase_count, sim_meter.balance), (5, Decimal("26.00")))
        state, attempts, _result = self._command(command_id)
        self.assertEqual(state, "queued", "the outcome was rolled back with the runner")
        self.assertEqual(attempts, [5], "the journal of the attempt was committed before")
        self._run()
        state, attempts, result = self._command(command_id)
        self.assertEqual(state, "verified")
        self.assertIn("nothing resent", result)
        self.assertEqual(attempts, [5], "not sent again")
        self.assertEqual((sim_meter.purchase_count, sim_meter.balance), (5, Decimal("26.00")))
        self.assertEqual([a for a, _t in sim_meter.commands_applied], ["credit"])

    def test_trip_survives_the_runner_dying_after_the_meter_applied_it(self):
        sim_meter = self.sim.meters["1"]
        command_id = self._queue("trip")
        self._run_and_die()
        self.assertFalse(sim_meter.relay_closed)
        self.assertEqual(self._command(command_id)[:2], ("queued", [0]))
        self._run()
        state, attempts, result = self._command(command_id)
        self.assertEqual(state, "verified")
        self.assertIn("already shows it", result)
        self.assertEqual(len(attempts), 1)
        self.assertEqual([a for a, _t in sim_meter.commands_applied], ["trip"])
