import psycopg2
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from prepaid_energy_core import commands as core

#: what may refuse one meter of a batch without stopping the others
BATCH_ERRORS = (UserError, ValidationError, AccessError, psycopg2.IntegrityError)


class PrepaidBatchTaskLine(models.Model):
    """What a batch task did to one meter."""

    _name = "prepaid.batch.task.line"
    _description = "Batch task: one meter"
    _order = "task_id, id"

    task_id = fields.Many2one("prepaid.batch.task", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="task_id.company_id", store=True)
    meter_id = fields.Many2one("prepaid.meter", required=True, index=True, ondelete="cascade")
    unit_id = fields.Many2one(related="meter_id.unit_id")
    command_id = fields.Many2one("prepaid.meter.command", readonly=True)
    command_state = fields.Selection(related="command_id.state", string="Command state")
    recharge_id = fields.Many2one("prepaid.recharge", readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("failed", "Failed")],
        compute="_compute_state",
        store=True,
        readonly=False,
        default="pending",
    )
    message = fields.Char(readonly=True)

    @api.depends("command_id.state", "command_id.next_attempt_at")
    def _compute_state(self):
        for line in self:
            if not line.command_id:
                line.state = line.state or "pending"
                continue
            state = line.command_id.state
            if state in (core.VERIFIED, core.ACKNOWLEDGED) and not line.command_id.next_attempt_at:
                line.state = "done"
            elif state in (core.FAILED, core.EXPIRED, core.CANCELLED):
                line.state = "failed"
            else:
                line.state = "pending"

    def _queue_commands(self):
        task = self.task_id
        Command = self.env["prepaid.meter.command"]
        for line in self:
            meter = line.meter_id
            try:
                with self.env.cr.savepoint():
                    command = Command._queue(
                        [
                            {
                                "meter_id": meter.id,
                                "action": meter._hw_utility_action(task.action),
                                "origin": "batch",
                                "user_id": self.env.uid,
                                "batch_ref": task.display_name,
                                "reason": task.name,
                                "open_reason": "manual",
                                "idempotency_key": f"batch:{task.id}:{meter.id}",
                            }
                        ]
                    )
            except BATCH_ERRORS as error:  # reported on its line, the batch goes on
                line.write({"state": "failed", "message": str(error)[:250]})
                continue
            line.write({"command_id": command.id, "message": False})

    def _run_recharges(self):
        task = self.task_id
        Recharge = self.env["prepaid.recharge"]
        method = task.journal_id._prepaid_payment_method("inbound")
        recharged = {}
        for line in self:
            account = line.meter_id.account_id
            if account.state != "open":
                line.write({"state": "failed", "message": self.env._("no open account")})
                continue
            if account in recharged:  # an account with several meters is recharged once
                line.write(
                    {
                        "state": "done",
                        "recharge_id": recharged[account].id,
                        "message": self.env._("account recharged once, with its other meter"),
                    }
                )
                continue
            try:
                with self.env.cr.savepoint():
                    recharge = Recharge.create(
                        {
                            "operation": "recharge",
                            "account_id": account.id,
                            "amount": task.amount,
                            "journal_id": task.journal_id.id,
                            "payment_method_line_id": method.id,
                            "reason": task.name,
                            "external_reference": f"batch:{task.id}:{account.id}",
                        }
                    )
                    recharge.action_confirm()
            except BATCH_ERRORS as error:  # reported on its line, the batch goes on
                line.write({"state": "failed", "message": str(error)[:250]})
                continue
            recharged[account] = recharge
            line.write({"state": "done", "recharge_id": recharge.id, "message": recharge.name})
