import datetime
import logging
import uuid
from collections import defaultdict
from decimal import Decimal

from markupsafe import Markup
from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.exceptions import UserError
from odoo.tools import float_repr

from prepaid_energy_core import commands as core
from prepaid_energy_core import fieldbus
from prepaid_energy_core.errors import PrepaidEnergyError

_logger = logging.getLogger(__name__)

ORIGINS = [
    ("policy", "Policy"),
    ("recharge", "Recharge"),
    ("staff", "Staff"),
    ("batch", "Batch task"),
    ("system", "System"),
]
#: commands run per cron call; the cron runs again at once while some are due
COMMANDS_PER_RUN = 500
#: a bus busy elsewhere is tried again this soon
BUSY_RETRY = datetime.timedelta(seconds=2)


class PrepaidMeterCommand(models.Model):
    """A command for one meter, tracked until the meter shows it (or it fails, expires or
    is cancelled). Who or what asked and why is kept with it."""

    _name = "prepaid.meter.command"
    _description = "Meter command"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    meter_id = fields.Many2one(
        "prepaid.meter", required=True, index=True, check_company=True, ondelete="restrict"
    )
    gateway_id = fields.Many2one(related="meter_id.gateway_id", store=True, index=True)
    site_id = fields.Many2one(related="meter_id.site_id", store=True)
    company_id = fields.Many2one(related="meter_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    action = fields.Selection(list(core.ACTION_LABELS), required=True, readonly=True)
    state = fields.Selection(
        list(core.STATE_LABELS), default=core.QUEUED, required=True, readonly=True, index=True
    )
    origin = fields.Selection(ORIGINS, required=True, default="staff", readonly=True)
    user_id = fields.Many2one("res.users", string="Asked by", readonly=True)
    policy_code = fields.Char(string="Decision code", readonly=True)
    reason = fields.Char(readonly=True)
    recharge_id = fields.Many2one("prepaid.recharge", readonly=True, index="btree_not_null")
    batch_ref = fields.Char(string="Batch task", readonly=True)
    open_reason = fields.Selection(
        [
            ("arrears", "Arrears"),
            ("manual", "Staff"),
            ("schedule", "Supply schedule"),
            ("fees", "Fees overdue"),
        ],
        readonly=True,
        help="Why the relay is open once this trip is done.",
    )
    amount = fields.Monetary(readonly=True, help="Credit to push (meter-side billing).")
    purchase_count = fields.Integer(
        readonly=True, help="The purchase count the push carried (the meter's count + 1)."
    )
    idempotency_key = fields.Char(required=True, readonly=True, copy=False, index=True)
    deadline = fields.Datetime(
        required=True, readonly=True, help="Never sent after this; DL/T 645 meters get it too."
    )
    next_attempt_at = fields.Datetime(readonly=True, index=True, copy=False)
    try_count = fields.Integer(string="Tries", readonly=True, copy=False)
    max_tries = fields.Integer(default=core.DEFAULT_MAX_TRIES, readonly=True)
    attempt_ids = fields.One2many(
        "prepaid.meter.command.attempt", "command_id", string="Attempts", readonly=True
    )
    attempt_count = fields.Integer(compute="_compute_attempt_count", string="Sent")
    last_error = fields.Char(readonly=True, copy=False)
    result = fields.Char(readonly=True, copy=False)
    sent_at = fields.Datetime(readonly=True, copy=False)
    acknowledged_at = fields.Datetime(readonly=True, copy=False)
    done_at = fields.Datetime(string="Finished at", readonly=True, copy=False)
    superseded_by_id = fields.Many2one("prepaid.meter.command", readonly=True, copy=False)

    _sql_constraints = [
        (
            "idempotency_key_unique",
            "UNIQUE(idempotency_key)",
            "A command with this idempotency key exists already: it is not queued twice.",
        ),
        ("amount_not_negative", "CHECK(amount >= 0)", "A credit amount cannot be negative."),
    ]

    @api.depends("action", "meter_id")
    def _compute_name(self):
        labels = dict(core.ACTION_LABELS)
        for command in self:
            command.name = f"{labels.get(command.action, '')} {command.meter_id.serial or ''}"

    @api.depends("attempt_ids")
    def _compute_attempt_count(self):
        for command in self:
            command.attempt_count = len(command.attempt_ids)

    # ------------------------------------------------------------------ queueing

    @api.model
    def _queue(self, vals_list):
        """Queue commands; returns them (an already queued key returns the existing one).

        A new command cancels the queued older commands of the same group for its
        meter (a close after a trip that never left). The runner is triggered: it
        runs after this transaction commits, never inside it.
        """
        if not vals_list:
            return self.browse()
        now = fields.Datetime.now()
        vals_list = [self._prepare_command_vals(vals, now) for vals in vals_list]
        keys = [vals["idempotency_key"] for vals in vals_list]
        existing = {c.idempotency_key: c for c in self.search([("idempotency_key", "in", keys)])}
        new_vals = []
        for vals in vals_list:
            if vals["idempotency_key"] not in existing and vals not in new_vals:
                new_vals.append(vals)
        created = self.create(new_vals) if new_vals else self.browse()
        created._supersede_older()
        created._log_queued()
        if created:
            self._trigger_runner()
        by_key = {c.idempotency_key: c for c in created} | existing
        return self.browse([by_key[key].id for key in dict.fromkeys(keys)])

    def _log_queued(self):
        """One operator-audit entry per queued command: who switched which relay, and why
        (a command queued again under its key is not logged twice: it is not created)."""
        if self:
            self.env["prepaid.audit.log"]._log(
                "relay_command",
                self,
                description=lambda command: command._audit_description(),
                account=lambda command: command.meter_id.account_id,
            )

    def _audit_description(self):
        self.ensure_one()
        reason = f": {self.reason}" if self.reason else ""
        return self.env._(
            "%(action)s of meter %(meter)s queued (%(origin)s)%(reason)s",
            action=dict(self._fields["action"].selection)[self.action],
            meter=self.meter_id.serial,
            origin=dict(self._fields["origin"].selection)[self.origin],
            reason=reason,
        )

    @api.model
    def _prepare_command_vals(self, vals, now):
        meter = self.env["prepaid.meter"].browse(vals["meter_id"])
        action = vals["action"]
        if not meter.gateway_id or not meter.bus_address:
            raise UserError(
                self.env._(
                    "Meter %s has no gateway and bus address: it cannot be commanded.",
                    meter.display_name,
                )
            )
        with raise_as_odoo(self.env, lambda: self.env._("Meter %s", meter.display_name)):
            core.check_action(action, meter.utility, meter._hw_capabilities())
        if action == core.PUSH_CREDIT and not (vals.get("amount") or 0) > 0:
            raise UserError(self.env._("A credit push needs a positive amount."))
        return {
            "idempotency_key": vals.get("idempotency_key") or f"{action}:{uuid.uuid4()}",
            "deadline": vals.get("deadline") or now + core.default_validity(action),
            "next_attempt_at": now,
            **vals,
        }

    def _supersede_older(self):
        """Cancel the queued, never sent, older commands of the same group and meter."""
        for command in self:
            group = core.GROUPS.get(command.action)
            if not group:
                continue
            older = self.search(
                [
                    ("meter_id", "=", command.meter_id.id),
                    ("id", "<", command.id),
                    ("state", "=", core.QUEUED),
                    ("action", "in", [a for a, g in core.GROUPS.items() if g == group]),
                ]
            ).filtered(lambda c: not c.attempt_ids)
            older._finish(
                core.CANCELLED,
                self.env._("superseded by %s", command.display_name),
                superseded_by_id=command.id,
            )

    def _trigger_runner(self, at=None):
        self.env.ref("prepaid_energy_hw.ir_cron_prepaid_run_commands").sudo()._trigger(at)

    # ------------------------------------------------------------------ the runner

    @api.model
    def _cron_run_commands(self, batch_size=COMMANDS_PER_RUN, now=None):
        """Run the commands due: observe, record the attempt, send, verify."""
        now = now or fields.Datetime.now()
        due = self.search(
            [("state", "in", core.OPEN_STATES), ("next_attempt_at", "<=", now)], order="id"
        )
        batch = due[:batch_size]
        batch._run(now)
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(due) - len(batch))
        self._schedule_next_run(now)
        return len(batch)

    def _schedule_next_run(self, now):
        """Wake the runner when the next retry is due (the cron's interval is a fallback)."""
        upcoming = self.search(
            [("state", "in", core.OPEN_STATES), ("next_attempt_at", ">", now)],
            order="next_attempt_at",
            limit=1,
        )
        if upcoming:
            self._trigger_runner(upcoming.next_attempt_at)

    def _run(self, now):
        """One pass over these commands (see prepaid_energy_core.commands)."""
        commands = self._supersede_stale().sorted("id")
        never_sent = commands.filtered(lambda c: c.deadline < now and not c.attempt_ids)
        never_sent._finish(core.EXPIRED, self.env._("deadline passed before it could be sent"))
        commands -= never_sent
        if not commands:
            return
        with commands.gateway_id._bus_locks() as free:
            busy = commands.filtered(lambda c: c.gateway_id not in free)
            busy.write({"next_attempt_at": now + BUSY_RETRY})
            results = (commands - busy)._run_on_buses(now)
        self._store_results(results, now)

    def _supersede_stale(self):
        """Cancel open commands a newer command of the same group and meter replaced;
        return the others. A late duplicate can thus never act after its successor."""
        stale = self.browse()
        by_meter = defaultdict(list)
        for command in self:
            by_meter[command.meter_id.id].append(command)
        newer = self.search(
            [
                ("meter_id", "in", list(by_meter)),
                ("state", "!=", core.CANCELLED),
                ("id", ">", min(self.ids, default=0)),
            ],
            order="id",
        )
        for command in self:
            group = core.GROUPS.get(command.action)
            if not group:
                continue
            successor = next(
                (
                    other
                    for other in newer
                    if other.meter_id == command.meter_id
                    and other.id > command.id
                    and core.GROUPS.get(other.action) == group
                ),
                None,
            )
            if successor:
                command._finish(
                    core.CANCELLED,
                    self.env._("superseded by %s", successor.display_name),
                    superseded_by_id=successor.id,
                )
                stale |= command
        return self - stale

    def _core_spec(self):
        self.ensure_one()
        last_target = self.attempt_ids.sorted("id")[-1:].purchase_count or None
        return core.CommandSpec(
            key=self.id,
            address=self.meter_id.bus_address,
            action=self.action,
            deadline=self.deadline,
            zone=self.meter_id._hw_zone(),
            amount=Decimal(float_repr(self.amount, self.currency_id.decimal_places))
            if self.action == core.PUSH_CREDIT
            else None,
            last_target=last_target if self.action == core.PUSH_CREDIT else None,
            acknowledged=self.state == core.ACKNOWLEDGED,
        )

    def _run_on_buses(self, now):
        """Observe, record, execute on the buses (concurrently); ``{command id: result}``.

        Only plain values cross into the bus threads: no record, no cursor there.
        """
        buses, jobs = {}, defaultdict(list)
        specs = {}
        for command in self:
            gateway = command.gateway_id
            if gateway not in buses:
                meters = self.filtered(lambda c, g=gateway: c.gateway_id == g).meter_id
                buses[gateway] = fieldbus.open_bus(
                    gateway._to_core_spec(), [meter._hw_meter_spec() for meter in meters]
                )
            try:
                specs[command.id] = spec = command._core_spec()
            except PrepaidEnergyError as error:
                command._finish(core.FAILED, str(error))
                continue
            jobs[buses[gateway]].append(spec)
        results = {}
        try:
            observed = dict(core.run_on_buses(jobs, lambda bus, spec: core.observe(bus, spec, now)))
            plans, to_send = {}, defaultdict(list)
            for bus, bus_specs in jobs.items():
                for spec in bus_specs:
                    observation = observed[spec]
                    if isinstance(observation, Exception):
                        results[spec.key] = ("error", observation)
                        continue
                    plans[spec.key] = planned = core.plan(spec, observation)
                    if planned.kind == core.PLAN_SEND and spec.deadline and now > spec.deadline:
                        # sent before, not in effect, too late to send again: never journalled
                        expired = core.Outcome(core.EXPIRED, self.env._("deadline passed"))
                        results[spec.key] = ("outcome", expired, planned)
                    elif planned.kind == core.PLAN_SEND:
                        to_send[bus].append(spec)
                    else:
                        results[spec.key] = ("plan", planned, observation)
            # the durable journal first: only then may the meter hear the command
            self.env["prepaid.meter.command.attempt"]._record(
                [
                    (spec.key, plans[spec.key].target)
                    for bus_specs in to_send.values()
                    for spec in bus_specs
                    if spec.action not in core.HARMLESS
                ],
                now,
            )
            executed = core.run_on_buses(
                to_send, lambda bus, spec: core.execute(bus, spec, plans[spec.key], now)
            )
            for spec, outcome in executed:
                if isinstance(outcome, Exception):
                    results[spec.key] = ("error", outcome)
                else:
                    results[spec.key] = ("outcome", outcome, plans[spec.key])
        finally:
            for bus in buses.values():
                bus.close()
        return results

    # ------------------------------------------------------------------ results

    def _store_results(self, results, now):
        """Write what one pass found, in the runner's transaction."""
        touched = self.env["prepaid.meter"]
        for command_id, result in results.items():
            command = self.browse(command_id)
            kind = result[0]
            if kind == "error":
                _logger.exception("command %s: internal error", command_id, exc_info=result[1])
                command._retry_later(now, f"internal error: {result[1]}")
            elif kind == "plan":
                command._store_plan(result[1], result[2], now)
            else:
                command._store_outcome(result[1], result[2], now)
            touched |= command.meter_id
        touched._hw_sync_states()

    def _store_plan(self, planned, observation, now):
        self.ensure_one()
        if planned.kind == core.PLAN_DONE:
            self._finish(core.VERIFIED, planned.message)
            self._apply_effect(observation, now)
        elif planned.kind == core.PLAN_FAIL:
            self._finish(core.FAILED, planned.message)
        elif planned.kind == core.PLAN_KEEP:
            self._finish(core.ACKNOWLEDGED, planned.message)
            self._apply_effect(observation, now)
        else:
            self._retry_later(now, planned.message)

    def _store_outcome(self, outcome, planned, now):
        self.ensure_one()
        values = {"try_count": self.try_count + 1}
        if outcome.sent:
            values.update(sent_at=now)
        if planned.target:
            values.update(purchase_count=planned.target)
        if outcome.state == core.VERIFIED:
            self.write(values)
            self._finish(core.VERIFIED, outcome.message)
            self._apply_effect(outcome.observation, now, outcome.reading)
        elif outcome.state in (core.FAILED, core.EXPIRED):
            self.write(values)
            self._finish(outcome.state, outcome.message)
        elif outcome.state == core.ACKNOWLEDGED:
            values.update(state=core.ACKNOWLEDGED, acknowledged_at=now, result=outcome.message)
            observation = outcome.observation
            verifiable = observation is None or not observation.answered
            if verifiable and values["try_count"] < self.max_tries:
                values["next_attempt_at"] = now + core.retry_delay(values["try_count"])
            else:  # the meter cannot show it: its acknowledgement is all there is
                values["next_attempt_at"] = False
                values["done_at"] = now
            self.write(values)
            if not values["next_attempt_at"]:
                self._apply_effect(observation, now)
        else:  # SENT (unknown) or QUEUED (not applied: try again)
            values["state"] = core.SENT if outcome.state == core.SENT else self.state
            self.write(values)
            self._retry_later(now, outcome.message, count=False)

    def _retry_later(self, now, message, count=True):
        """Try again after the back-off, or give up after ``max_tries``."""
        self.ensure_one()
        tries = self.try_count + (1 if count else 0)
        if tries >= self.max_tries:
            self.write({"try_count": tries})
            self._finish(
                core.FAILED,
                self.env._("gave up after %(tries)s tries: %(error)s", tries=tries, error=message),
            )
            return
        self.write(
            {
                "try_count": tries,
                "last_error": message[:250],
                "next_attempt_at": now + core.retry_delay(tries),
            }
        )

    def _finish(self, state, message, **values):
        """Put these commands in a final state (a meter is told of failures)."""
        if not self:
            return
        final = {
            "state": state,
            "result": (message or "")[:250] or False,
            "next_attempt_at": False,
            "done_at": fields.Datetime.now(),
            **values,
        }
        if state in (core.FAILED, core.EXPIRED):
            final["last_error"] = final["result"]
        self.write(final)
        if state in (core.FAILED, core.EXPIRED):
            for command in self:
                command.meter_id.message_post(
                    body=Markup("<p>%s</p>")
                    % self.env._(
                        "Command %(command)s %(state)s: %(message)s",
                        command=command.display_name,
                        state=dict(core.STATE_LABELS)[state].lower(),
                        message=message,
                    )
                )

    def _apply_effect(self, observation, now, reading=None):
        """What the meter now shows, on the meter record."""
        self.ensure_one()
        meter = self.meter_id
        action = self.action
        if action in core.OPENING:
            meter.write(
                {
                    "relay_state": "open",
                    "relay_open_reason": self.open_reason or "manual",
                    "relay_changed_at": now,
                    "relay_changes": meter.relay_changes + (meter.relay_state != "open"),
                }
            )
            self._post_switch(meter)
        elif action in core.CLOSING:
            meter.write(
                {
                    "relay_state": "closed",
                    "relay_open_reason": False,
                    "relay_changed_at": now,
                    "relay_changes": meter.relay_changes + (meter.relay_state != "closed"),
                    "paid_but_off_since": False,
                    "paid_but_off": False,
                }
            )
            self._post_switch(meter)
        elif action == core.KEEP_POWER_ON:
            meter.keep_power = True
        elif action in (core.KEEP_POWER_OFF, core.RESTORE_PREPAID):
            meter.keep_power = False
        elif action == core.PUSH_CREDIT and observation is not None:
            meter.write(
                {
                    "meter_purchase_count": observation.purchase_count
                    or meter.meter_purchase_count,
                    "meter_balance": observation.balance
                    if observation.balance is not None
                    else meter.meter_balance,
                    "meter_values_date": now,
                }
            )
            meter.message_post(
                body=self.env._(
                    "Credit %(amount)s pushed as purchase %(count)s, verified by read-back.",
                    amount=meter.account_id._format_amount(self.amount)
                    if meter.account_id
                    else self.amount,
                    count=observation.purchase_count,
                )
            )
        elif action == core.READ and reading is not None:
            meter._hw_ingest({meter: reading})
            meter._hw_store_readings({meter: reading}, now)

    def _post_switch(self, meter):
        meter.message_post(
            body=self.env._(
                "%(command)s verified on the meter (%(origin)s: %(reason)s).",
                command=dict(core.ACTION_LABELS)[self.action],
                origin=dict(ORIGINS)[self.origin].lower(),
                reason=self.reason or "",
            )
        )

    # ------------------------------------------------------------------ staff actions

    def action_cancel(self):
        """Cancel open commands. One already sent may have acted: the next read shows it."""
        for command in self:
            if command.state not in core.OPEN_STATES:
                raise UserError(self.env._("Only a queued or sent command can be cancelled."))
        self._finish(core.CANCELLED, self.env._("cancelled by %s", self.env.user.name))
        return True

    def action_retry(self):
        """Queue failed or expired commands again, as new commands."""
        for command in self:
            if command.state not in (core.FAILED, core.EXPIRED):
                raise UserError(self.env._("Only a failed or expired command can be retried."))
        return self._queue(
            [
                {
                    "meter_id": command.meter_id.id,
                    "action": command.action,
                    "origin": "staff",
                    "user_id": self.env.uid,
                    "reason": self.env._("retry of %s", command.display_name),
                    "open_reason": command.open_reason,
                    "amount": command.amount,
                }
                for command in self
            ]
        )
