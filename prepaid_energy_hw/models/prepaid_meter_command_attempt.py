from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class PrepaidMeterCommandAttempt(models.Model):
    """One time a command was about to leave for its meter.

    Written in a transaction of its own and committed BEFORE the meter is
    talked to (see prepaid.meter.command._run): whatever happens next (lost
    acknowledgement, worker killed, the runner's transaction rolled back), the
    next run knows the command may have acted, reads the meter back first and
    carries the same purchase count, so nothing is applied twice. Append-only.
    """

    _name = "prepaid.meter.command.attempt"
    _description = "Meter command attempt (durable journal)"
    _order = "command_id, id"
    _log_access = False

    command_id = fields.Many2one(
        "prepaid.meter.command", required=True, index=True, ondelete="cascade", readonly=True
    )
    started_at = fields.Datetime(required=True, readonly=True)
    purchase_count = fields.Integer(
        readonly=True, help="Purchase count a credit push carried (the meter's count + 1)."
    )

    def _record(self, entries, now):
        """Commit ``[(command id, purchase count or None)]`` in a cursor of their own.

        Returns ``{command id: attempt id}``. In Odoo's test mode the cursor shares
        the test transaction (a savepoint), as every other cursor does.
        """
        if not entries:
            return {}
        with self.env.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "INSERT INTO prepaid_meter_command_attempt"
                    " (command_id, started_at, purchase_count)"
                    " SELECT v.command_id, %s, v.purchase_count"
                    " FROM unnest(%s::int4[], %s::int4[]) AS v(command_id, purchase_count)"
                    " RETURNING command_id, id",
                    now,
                    [command_id for command_id, _count in entries],
                    [count for _command_id, count in entries],
                )
            )
            recorded = dict(cr.fetchall())
        # leaving the block committed that cursor's transaction (only that one)
        self.invalidate_model()
        self.env["prepaid.meter.command"].invalidate_model(["attempt_ids", "attempt_count"])
        return recorded

    def write(self, vals):
        if vals:
            raise UserError(self.env._("Command attempts are a journal: they never change."))
        return super().write(vals)
