import base64

from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.exceptions import UserError

from prepaid_energy_core import commands as core
from prepaid_energy_core.vocabulary import METER_STATE_LABELS
from prepaid_energy_core.xlsx_export import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    MONEY,
    NUMBER,
    Column,
    build_workbook,
)

#: what a batch can do to each meter: the commands staff may send, a recharge, a tariff
BATCH_ACTIONS = [
    (core.TRIP, "Trip (valve close on water meters)"),
    (core.CLOSE, "Close (valve open on water meters)"),
    (core.KEEP_POWER_ON, "Keep power on"),
    (core.KEEP_POWER_OFF, "Keep power off"),
    (core.RESTORE_PREPAID, "Restore prepaid mode"),
    (core.SYNC_TIME, "Sync time"),
    (core.READ, "Read now"),
    ("recharge", "Recharge"),
    ("tariff", "Change tariff"),
]
#: the live status export of meters: column, header, kind, totalled
STATUS_COLUMNS = [
    Column("serial", "Meter"),
    Column("unit", "Unit"),
    Column("tenant", "Tenant"),
    Column("account", "Account"),
    Column("state", "State"),
    Column("balance", "Balance", MONEY, total=True),
    Column("alarm", "Alarm level"),
    Column("relay", "Relay"),
    Column("online", "Online", BOOLEAN),
    Column("last_reading_at", "Last reading (UTC)", DATETIME),
    Column("last_total", "Last register", NUMBER),
    Column("today", "Today", NUMBER, total=True),
    Column("meter_balance", "Meter balance", MONEY, total=True),
    Column("purchase_count", "Purchase count", INTEGER),
    Column("last_command", "Last command"),
    Column("last_command_state", "Command state"),
]


class PrepaidBatchTask(models.Model):
    """One action on many meters: picked by site, building, floor, state, tariff, online."""

    _name = "prepaid.batch.task"
    _description = "Batch task on meters"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, default=lambda self: self.env._("New batch task"))
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    site_id = fields.Many2one(
        "prepaid.location", check_company=True, domain="[('location_type', '=', 'site')]"
    )
    building_id = fields.Many2one(
        "prepaid.location", check_company=True, domain="[('location_type', '=', 'building')]"
    )
    floor_id = fields.Many2one(
        "prepaid.location", check_company=True, domain="[('location_type', '=', 'floor')]"
    )
    meter_state = fields.Selection(list(METER_STATE_LABELS), string="Meter state")
    tariff_filter_id = fields.Many2one("prepaid.tariff", string="Billed with", check_company=True)
    online_filter = fields.Selection(
        [("online", "Online"), ("offline", "Offline")], string="Online"
    )
    action = fields.Selection(BATCH_ACTIONS, required=True, default=core.READ, tracking=True)
    amount = fields.Monetary(help="Recharge: the amount booked on each meter's account.")
    journal_id = fields.Many2one(
        "account.journal",
        string="Channel",
        check_company=True,
        domain="[('type', 'in', ('cash', 'bank'))]",
    )
    tariff_id = fields.Many2one("prepaid.tariff", string="New tariff", check_company=True)
    scheduled_at = fields.Datetime(string="Run at", help="Empty: now.")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("scheduled", "Scheduled"),
            ("done", "Done"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    line_ids = fields.One2many("prepaid.batch.task.line", "task_id", string="Meters")
    line_count = fields.Integer(compute="_compute_progress")
    done_count = fields.Integer(string="Done", compute="_compute_progress")
    failed_count = fields.Integer(string="Failed", compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Share of the meters done (%).")
    preview_count = fields.Integer(string="Meters picked", compute="_compute_preview_count")

    @api.depends("line_ids.state")
    def _compute_progress(self):
        for task in self:
            states = task.line_ids.mapped("state")
            task.line_count = len(states)
            task.done_count = states.count("done")
            task.failed_count = states.count("failed")
            finished = task.done_count + task.failed_count
            task.progress = 100.0 * finished / len(states) if states else 0.0

    @api.depends(
        "site_id", "building_id", "floor_id", "meter_state", "tariff_filter_id", "online_filter"
    )
    def _compute_preview_count(self):
        Meter = self.env["prepaid.meter"]
        for task in self:
            task.preview_count = Meter.search_count(task._meter_domain())

    def _meter_domain(self):
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        place = self.floor_id or self.building_id or self.site_id
        if place:
            domain.append(("unit_id", "child_of", place.id))
        if self.meter_state:
            domain.append(("state", "=", self.meter_state))
        if self.tariff_filter_id:
            domain += [
                "|",
                ("tariff_id", "=", self.tariff_filter_id.id),
                "&",
                ("tariff_id", "=", False),
                ("site_id.default_tariff_id", "=", self.tariff_filter_id.id),
            ]
        if self.online_filter:
            domain.append(("hw_online_state", "=", self.online_filter))
        return domain

    def _selected_meters(self):
        return self.env["prepaid.meter"].search(self._meter_domain(), order="unit_id, id")

    # ------------------------------------------------------------------ running

    def action_run(self):
        """Run now, or at the set time (the batch cron picks it up)."""
        for task in self:
            if task.state != "draft":
                raise UserError(self.env._("Only a draft batch task can be run."))
            task._check_settings()
            if task.scheduled_at and task.scheduled_at > fields.Datetime.now():
                task.state = "scheduled"
                self.env.ref("prepaid_energy_hw.ir_cron_prepaid_batch_tasks")._trigger(
                    task.scheduled_at
                )
            else:
                task._execute()
        return True

    def _check_settings(self):
        self.ensure_one()
        if self.action == "recharge" and not (self.amount > 0 and self.journal_id):
            raise UserError(self.env._("A recharge batch needs a positive amount and a channel."))
        if self.action == "tariff" and not self.tariff_id:
            raise UserError(self.env._("Choose the new tariff."))
        if not self._selected_meters():
            raise UserError(self.env._("No meter matches the selection."))

    @api.model
    def _cron_run_batch_tasks(self):
        due = self.search(
            [("state", "=", "scheduled"), ("scheduled_at", "<=", fields.Datetime.now())]
        )
        for task in due:
            task._execute()
        self.env["ir.cron"]._notify_progress(done=len(due), remaining=0)

    def _execute(self):
        """One line per meter, then the action on each: a failure stays on its line."""
        self.ensure_one()
        meters = self._selected_meters()
        lines = self.env["prepaid.batch.task.line"].create(
            [{"task_id": self.id, "meter_id": meter.id} for meter in meters]
        )
        if self.action == "recharge":
            lines._run_recharges()
        elif self.action == "tariff":
            meters.write({"tariff_id": self.tariff_id.id})
            lines.write({"state": "done", "message": self.tariff_id.display_name})
        else:
            lines._queue_commands()
        self.state = "done"
        self.message_post(
            body=self.env._(
                "%(count)s meters: %(done)s done, %(failed)s failed.",
                count=len(lines),
                done=self.done_count,
                failed=self.failed_count,
            )
        )

    # ------------------------------------------------------------------ export

    def action_export_status(self):
        self.ensure_one()
        return self._selected_meters().action_export_status_xlsx()

    @api.model
    def _status_workbook(self, meters):
        """The live status of ``meters`` as an XLSX file (bytes)."""
        rows = meters._hw_status_rows()
        with raise_as_odoo(self.env):
            return build_workbook(self.env._("Meter status"), STATUS_COLUMNS, rows)

    @api.model
    def _status_attachment(self, meters):
        data = self._status_workbook(meters)
        return self.env["ir.attachment"].create(
            {
                "name": f"meter-status-{fields.Datetime.now():%Y%m%d-%H%M}.xlsx",
                "datas": base64.b64encode(data),
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "res_model": "prepaid.meter",
            }
        )
