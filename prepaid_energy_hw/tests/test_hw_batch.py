"""Batch tasks: pick meters, act on each (commands, recharges, tariff), now or later, with
progress and per-meter results; the live status export, read back with openpyxl."""

import base64
import datetime
import io

import openpyxl
from odoo import fields
from odoo.tests import Form, tagged

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwBatch(HwCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Location = cls.env["prepaid.location"]
        cls.building = Location.create(
            {"name": "Block B", "location_type": "building", "parent_id": cls.site.id}
        )
        cls.floor = Location.create(
            {"name": "Floor 2", "location_type": "floor", "parent_id": cls.building.id}
        )
        cls.unit.parent_id = cls.floor
        cls.meter_2 = cls._create_meter("EL-0002", cls.unit)
        cls.meter_2.write({"gateway_id": cls.gateway.id, "bus_address": cls.sim.addresses[1]})
        cls.other = cls._create_meter(
            "EL-0099",
            cls.env["prepaid.location"].create(
                {"name": "999", "location_type": "unit", "parent_id": cls.site.id}
            ),
        )

    def _task(self, **values):
        with Form(self.env["prepaid.batch.task"].with_user(self.officer)) as form:
            form.name = "Night round"
            form.building_id = self.building
            for name, value in values.items():
                setattr(form, name, value)
        return form.record

    def test_batch_trip_of_a_building_with_progress_and_results(self):
        task = self._task(action="trip")
        self.assertEqual(task.preview_count, 2, "the two meters of the building, not the other")
        task.action_run()
        self.assertEqual(task.state, "done")
        self.assertEqual(task.line_ids.meter_id, self.meter | self.meter_2)
        commands = task.line_ids.command_id
        self.assertEqual(set(commands.mapped("origin")), {"batch"})
        self.assertEqual(set(commands.mapped("batch_ref")), {task.display_name})
        self.assertEqual(task.progress, 0.0)
        self.run_commands()
        task.invalidate_recordset()
        self.assertEqual(task.line_ids.mapped("state"), ["done", "done"])
        self.assertEqual(task.progress, 100.0)
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertFalse(self.sim_meter(self.meter_2).relay_closed)

    def test_batch_recharge_books_each_account_once(self):
        account = self.open_metered_account(start=1000, amount=10)
        self.meter_2._open_on_account(account, self.meter.last_reading_id)
        task = self._task(action="recharge", amount=20, journal_id=self.cash_journal)
        task.action_run()
        self.assertEqual(task.line_ids.mapped("state"), ["done", "done"])
        self.assertEqual(len(task.line_ids.recharge_id), 1)
        self.assertAlmostEqual(account.balance, 30.0)
        self.assertEqual(task.line_ids.recharge_id.state, "done")

    def test_batch_recharge_failure_stays_on_its_line(self):
        task = self._task(action="recharge", amount=20, journal_id=self.cash_journal)
        task.action_run()
        self.assertEqual(task.line_ids.mapped("state"), ["failed", "failed"])
        self.assertIn("no open account", task.line_ids[0].message)
        self.assertEqual(task.failed_count, 2)

    def test_batch_tariff_change(self):
        tariff = self.tariff.copy({"name": "Flat night", "code": "FLAT-N"})
        task = self._task(action="tariff", tariff_id=tariff)
        task.action_run()
        self.assertEqual((self.meter | self.meter_2).tariff_id, tariff)
        self.assertFalse(self.other.tariff_id)

    def test_batch_at_a_set_time(self):
        later = fields.Datetime.now() + datetime.timedelta(hours=1)
        task = self._task(action="read", scheduled_at=later)
        task.action_run()
        self.assertEqual(task.state, "scheduled")
        cron = self.env.ref("prepaid_energy_hw.ir_cron_prepaid_batch_tasks")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        cron.method_direct_trigger()
        self.assertEqual((task.state, len(task.line_ids)), ("scheduled", 0), "not yet")
        task.scheduled_at = fields.Datetime.now() - datetime.timedelta(seconds=1)
        cron.method_direct_trigger()
        self.assertEqual(task.state, "done")
        self.assertEqual(set(task.line_ids.command_id.mapped("action")), {"read"})

    def test_status_export_reads_back_with_openpyxl(self):
        account = self.open_metered_account(start=1000, amount=100)
        self.set_register(1010)
        self.read_cycle()
        self.meter.with_user(self.officer).action_hw_read_now()
        action = (
            self.env["prepaid.meter"]
            .browse((self.meter | self.meter_2).ids)
            .with_user(self.officer)
            .action_export_status_xlsx()
        )
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        data = base64.b64decode(self.env["ir.attachment"].browse(attachment_id).datas)
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        header = [cell.value for cell in sheet[1]]
        self.assertEqual(header[:6], ["Meter", "Unit", "Tenant", "Account", "State", "Balance"])
        self.assertEqual(sheet.freeze_panes, "A2")
        rows = {row[0]: row for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)}
        first = dict(zip(header, rows["EL-0001"]))
        self.assertEqual(first["Account"], account.name)
        self.assertAlmostEqual(first["Balance"], account.balance)
        self.assertEqual(first["Relay"], "Closed")
        self.assertIs(first["Online"], True)
        self.assertAlmostEqual(first["Last register"], 1010.0)
        self.assertEqual(first["Last command"], "Read now")
        self.assertIsInstance(first["Last reading (UTC)"], datetime.datetime)
        second = dict(zip(header, rows["EL-0002"]))
        self.assertIsNone(second["Balance"])
        self.assertEqual(sheet.cell(4, 1).value, "Total")
        self.assertEqual(sheet.cell(4, 6).value, "=SUBTOTAL(9,F2:F3)")
