"""Shared set-up of the hardware tests: the core's meter simulator on a free local port,
a gateway and meters wired to it, accounts with money, and helpers to run the crons.

Everything is real: the simulated meters answer over TCP through the core's drivers,
the readings go through the prepaid addon's ingestion, pricing and posting, and the
money through the cashier's wizard. The registry is in test mode (as for HttpCase),
so the cursors the runner opens for its durable journal share the test transaction.
"""

import datetime
from decimal import Decimal

from odoo import Command, fields
from odoo.addons.prepaid_energy.tests.test_money_common import MoneyCase
from odoo.tests import Form

from prepaid_energy_core import commands as core_commands
from prepaid_energy_core.simulator.faults import FaultPlan
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway


class HwCase(MoneyCase):
    #: the simulated gateways of the class: protocol -> number of meters
    GATEWAYS = {"modbus-rtu": 4}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.registry.in_test_mode():  # HttpCase entered it already
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.simulator = SimulatorServer(tick_interval=None).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.sim_gateways = {}
        cls.gateways = {}
        profiles = {
            "modbus-rtu": cls.env.ref("prepaid_energy_hw.profile_generic_modbus"),
            "dlt645": cls.env.ref("prepaid_energy_hw.profile_dlt645"),
        }
        for index, (protocol, count) in enumerate(cls.GATEWAYS.items()):
            sim = make_gateway(protocol, count, gateway_index=index, load_kw=Decimal(0))
            cls.simulator.add_gateway(sim)
            cls.sim_gateways[protocol] = sim
            cls.gateways[protocol] = cls.env["prepaid.gateway"].create(
                {
                    "name": f"Sim {protocol}",
                    "site_id": cls.site.id,
                    "protocol": protocol,
                    "transport": "tcp",
                    "host": sim.host,
                    "port": sim.port,
                    "timeout_ms": 300,
                    "default_profile_id": profiles[protocol].id,
                }
            )
        cls.gateway = cls.gateways[next(iter(cls.GATEWAYS))]
        cls.sim = cls.sim_gateways[next(iter(cls.GATEWAYS))]
        cls.site.write({"offline_after_cycles": 2, "paid_but_off_minutes": 0})
        cls.meter.write({"gateway_id": cls.gateway.id, "bus_address": cls.sim.addresses[0]})

    def setUp(self):
        super().setUp()
        for sim in self.sim_gateways.values():  # every test starts from a quiet bus
            sim.faults = FaultPlan()
            for meter in sim.meters.values():
                with meter.lock:
                    meter.relay_closed, meter.close_allowed, meter.keep_power = True, False, False
                    meter.dead = False
                    meter.commands_applied.clear()
                    meter.clock_offset = datetime.timedelta(0)

    # ------------------------------------------------------------------ simulator

    def sim_meter(self, meter=None):
        meter = meter or self.meter
        return self.sim_gateways[meter.gateway_id.protocol].meters[meter.bus_address]

    def set_register(self, total, meter=None, band="flat"):
        """Move the simulated meter's total register to ``total`` (kWh), its band with it."""
        sim = self.sim_meter(meter)
        with sim.lock:
            sim.advance()
            delta = Decimal(str(total)) - sim.total
            sim.total += delta
            sim.bands[band] += delta

    def applied(self, meter=None, action=None):
        """What the simulated meter really applied, in order."""
        return [a for a, _when in self.sim_meter(meter).commands_applied if action in (None, a)]

    # ------------------------------------------------------------------ Odoo side

    def open_metered_account(self, meter=None, start=1000, amount=0, hours_ago=2):
        """An open account billing ``meter`` from a start reading taken ``hours_ago``
        (an earlier slot than the cycle's), with ``amount`` recharged at the cash desk."""
        meter = meter or self.meter
        self.set_register(start, meter)
        sim = self.sim_meter(meter)
        when = fields.Datetime.now() - datetime.timedelta(hours=hours_ago)
        row = {
            "meter_id": meter.id,
            "timestamp": when,
            "total": start,
            "source": "manual",
            **sim.bands,
        }
        reading = self.env["prepaid.reading"]._ingest([row])["created"]
        self.assertEqual(len(reading), 1)
        account = self.env["prepaid.account"].create(
            {
                "partner_id": self.tenant.id,
                "unit_id": self.unit.id,
                "occupancy_id": self.occupancy.id,
            }
        )
        account.write({"state": "open", "date_open": when})
        meter._open_on_account(account, reading)
        if amount:
            self._recharge(account, amount)
        return account

    def read_cycle(self):
        """Run the read cron as the scheduler would (every due gateway)."""
        self.env["prepaid.gateway"].search([]).write({"next_read_at": False})
        self.env.ref("prepaid_energy_hw.ir_cron_prepaid_read_meters").method_direct_trigger()
        self.env.invalidate_all()

    def run_commands(self, later=None):
        """Run the command cron; ``later`` (seconds) runs it as if that much time had
        passed, so retries after their back-off are due."""
        now = fields.Datetime.now() + datetime.timedelta(seconds=later or 0)
        self.env["prepaid.meter.command"]._cron_run_commands(now=now)
        self.env.invalidate_all()

    def run_commands_until_settled(self, rounds=8):
        """Run the command cron until no command is open, each round as if the back-off
        of the previous one had passed (well within the commands' deadline)."""
        Command = self.env["prepaid.meter.command"]
        later = 0
        for round_ in range(rounds):
            self.run_commands(later=later)
            if not Command.search_count([("state", "in", ("queued", "sent"))]):
                return
            later += core_commands.retry_delay(round_ + 1).total_seconds() + 1
        open_ = Command.search([("state", "in", ("queued", "sent"))])
        self.fail(f"commands still open: {open_.mapped('display_name')} {open_.mapped('result')}")

    def commands(self, meter=None, **domain):
        meter = meter or self.meter
        terms = [("meter_id", "=", meter.id)] + [(k, "=", v) for k, v in domain.items()]
        return self.env["prepaid.meter.command"].search(terms, order="id")

    def policy_messages(self, meter=None):
        meter = meter or self.meter
        return meter.message_ids.filtered(lambda m: "Policy:" in (m.body or ""))

    def runner_triggered(self):
        cron = self.env.ref("prepaid_energy_hw.ir_cron_prepaid_run_commands")
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    def overdue_fee_invoices(self, account):
        """A property fee invoiced for 60 to 31 days ago, due at once: overdue today."""
        # fee amounts are gross, like tariffs (the fee invoices check it)
        self.env.ref("prepaid_energy.product_property_fee").write(
            {
                "taxes_id": [Command.set(self.tax_included.ids)],
                "property_account_income_id": self.revenue.id,
            }
        )
        with Form(self.env(user=self.manager)["prepaid.fee.scheme"]) as form:
            form.name = "Property fee"
            form.fee_type = "property"
            form.basis = "fixed"
            form.amount = 80.0
            form.periodicity = "monthly"
            form.collection = "invoice"
            form.due_days = 0
        today = fields.Date.today()
        subscription = (
            self.env["prepaid.fee.subscription"]
            .with_user(self.officer)
            .create(
                {
                    "account_id": account.id,
                    "scheme_id": form.record.id,
                    "date_start": today - datetime.timedelta(days=60),
                    "date_end": today - datetime.timedelta(days=31),
                }
            )
        )
        invoices = subscription._post_due_charges().invoice_id
        self.assertTrue(invoices)
        self.assertEqual(set(invoices.mapped("payment_state")), {"not_paid"})
        self.assertTrue(all(due < today for due in invoices.mapped("invoice_date_due")))
        account.invalidate_recordset()
        return invoices

    def pay_invoices(self, invoices):
        """The tenant pays the fee invoices at the bank, as any receivable."""
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoices.ids
        ).create({"journal_id": self.bank_journal.id})._create_payments()
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        invoices.prepaid_fee_account_id.invalidate_recordset()
