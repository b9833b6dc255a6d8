import datetime
import logging
import time
from collections import defaultdict

from markupsafe import Markup
from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.addons.prepaid_energy.tools.timezone import to_local, to_utc, zone_name
from odoo.exceptions import UserError, ValidationError

from prepaid_energy_core import commands as core_commands
from prepaid_energy_core import fieldbus, policy, supply
from prepaid_energy_core import ingestion as core_ingestion
from prepaid_energy_core import vocabulary as words
from prepaid_energy_core.errors import PrepaidEnergyError

from ..tools.bulk_update import update_rows
from ..tools.policy_inputs import PolicyContext
from .prepaid_account import DEFER_POLICY
from .prepaid_gateway import ONLINE_STATES

_logger = logging.getLogger(__name__)

RELAY_STATES = [("unknown", "Unknown"), ("closed", "Closed"), ("open", "Open")]
#: the room board's colour of each meter state (alarm 1 and alarm 2 differ)
BOARD_COLORS = {
    words.NOT_OPENED: "#adb5bd",
    words.NORMAL: "#28a745",
    words.ALARM1: "#f0ad4e",
    words.ALARM2: "#fd7e14",
    words.ARREARS: "#dc3545",
    words.TRIPPED: "#6f42c1",
    words.OFFLINE: "#343a40",
}
#: overload trips older than this are forgotten (the policy counts them per day)
OVERLOAD_MEMORY = datetime.timedelta(days=2)


class PrepaidMeter(models.Model):
    _inherit = "prepaid.meter"

    gateway_id = fields.Many2one(
        "prepaid.gateway",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        ondelete="restrict",
    )
    bus_address = fields.Char(
        tracking=True,
        copy=False,
        help="Modbus unit id (1..247) or DL/T 645 address (12 digits) on the gateway's bus.",
    )
    profile_id = fields.Many2one(
        "prepaid.meter.profile",
        string="Protocol profile",
        tracking=True,
        help="Empty: the gateway's default profile.",
    )
    effective_profile_id = fields.Many2one(
        "prepaid.meter.profile", compute="_compute_effective_profile_id", string="Profile"
    )
    hw_online_state = fields.Selection(
        ONLINE_STATES, string="Online", default="unknown", required=True, readonly=True, copy=False
    )
    hw_last_seen = fields.Datetime(string="Last answer", readonly=True, copy=False)
    hw_missed_cycles = fields.Integer(string="Missed cycles", readonly=True, copy=False)
    hw_first_missed_at = fields.Datetime(readonly=True, copy=False)
    hw_offline_since = fields.Datetime(string="Offline since", readonly=True, copy=False)
    hw_last_error = fields.Char(string="Last read error", readonly=True, copy=False)
    relay_state = fields.Selection(
        RELAY_STATES, default="unknown", required=True, readonly=True, copy=False
    )
    relay_open_reason = fields.Selection(
        list(supply.OPEN_REASON_LABELS), string="Open because", readonly=True, copy=False
    )
    relay_changed_at = fields.Datetime(readonly=True, copy=False)
    relay_changes = fields.Integer(
        readonly=True, copy=False, help="How many times the relay was seen to change."
    )
    overload_trips = fields.Json(
        readonly=True, copy=False, help="Site-local times of recent protection trips."
    )
    meter_balance = fields.Monetary(
        readonly=True, copy=False, help="Remaining money as the meter itself keeps it."
    )
    meter_purchase_count = fields.Integer(
        string="Purchase count", readonly=True, copy=False, help="Credit purchases applied."
    )
    meter_values_date = fields.Datetime(string="Meter values read", readonly=True, copy=False)
    balance_drift = fields.Monetary(
        string="Meter - wallet",
        compute="_compute_balance_drift",
        help="Meter-side billing: the meter's own balance minus the platform wallet's.",
    )
    wallet_balance = fields.Monetary(related="account_id.balance", string="Wallet balance")
    arrears_since = fields.Datetime(readonly=True, copy=False)
    policy_code = fields.Char(string="Policy decision", readonly=True, copy=False)
    policy_reason = fields.Char(readonly=True, copy=False)
    policy_date = fields.Datetime(readonly=True, copy=False)
    paid_but_off_since = fields.Datetime(
        readonly=True, copy=False, help="Open account in credit, relay read open since then."
    )
    paid_but_off = fields.Boolean(readonly=True, copy=False, index=True)
    # the room board: where the meter is, and what it did today
    building_id = fields.Many2one(
        "prepaid.location", compute="_compute_board_place", store=True, index=True
    )
    floor_id = fields.Many2one("prepaid.location", compute="_compute_board_place", store=True)
    unit_name = fields.Char(related="unit_id.name", string="Unit name")
    today_quantity = fields.Float(
        string="Today",
        digits=(16, 3),
        compute="_compute_today",
        help="Consumed today (site clock).",
    )
    today_amount = fields.Monetary(string="Today's cost", compute="_compute_today")
    board_color = fields.Char(compute="_compute_board_color")
    command_ids = fields.One2many("prepaid.meter.command", "meter_id", string="Commands")
    open_command_count = fields.Integer(compute="_compute_open_command_count")
    last_command_id = fields.Many2one(
        "prepaid.meter.command", compute="_compute_open_command_count", string="Last command"
    )

    _sql_constraints = [
        (
            "bus_address_unique",
            "UNIQUE(gateway_id, bus_address)",
            "Two meters cannot have the same address on one bus.",
        ),
    ]

    @api.depends("profile_id", "gateway_id.default_profile_id")
    def _compute_effective_profile_id(self):
        for meter in self:
            meter.effective_profile_id = meter.profile_id or meter.gateway_id.default_profile_id

    @api.depends("unit_id.parent_path")
    def _compute_board_place(self):
        ancestors = self.env["prepaid.location"].browse(
            {int(i) for meter in self for i in (meter.unit_id.parent_path or "").split("/") if i}
        )
        by_id = {location.id: location for location in ancestors}
        for meter in self:
            chain = [by_id[int(i)] for i in (meter.unit_id.parent_path or "").split("/") if i]
            meter.building_id = next(
                (loc for loc in chain if loc.location_type == "building"), False
            )
            meter.floor_id = next((loc for loc in chain if loc.location_type == "floor"), False)

    def _compute_today(self):
        Charge = self.env["prepaid.charge"]
        starts = {}
        for meter in self:
            zone = meter._hw_zone()
            if zone not in starts:
                local_today = to_local(fields.Datetime.now(), zone).date()
                starts[zone] = to_utc(datetime.datetime.combine(local_today, datetime.time()), zone)
        since = min(starts.values(), default=fields.Datetime.now())
        totals = {
            meter: (quantity, amount)
            for meter, quantity, amount in Charge._read_group(
                [("meter_id", "in", self.ids), ("date_start", ">=", since)],
                ["meter_id"],
                ["quantity:sum", "amount:sum"],
            )
        }
        for meter in self:
            meter.today_quantity, meter.today_amount = totals.get(meter, (0.0, 0.0))

    @api.depends("state")
    def _compute_board_color(self):
        for meter in self:
            meter.board_color = BOARD_COLORS.get(meter.state, "#adb5bd")

    @api.depends("meter_balance", "account_id.balance", "billing_side")
    def _compute_balance_drift(self):
        for meter in self:
            if meter.billing_side == "meter" and meter.account_id and meter.meter_values_date:
                meter.balance_drift = meter.meter_balance - meter.account_id.balance
            else:
                meter.balance_drift = 0.0

    def _compute_open_command_count(self):
        Command = self.env["prepaid.meter.command"]
        counts = dict(
            Command._read_group(
                [("meter_id", "in", self.ids), ("state", "in", core_commands.OPEN_STATES)],
                ["meter_id"],
                ["__count"],
            )
        )
        last = dict(Command._read_group([("meter_id", "in", self.ids)], ["meter_id"], ["id:max"]))
        for meter in self:
            meter.open_command_count = counts.get(meter, 0)
            meter.last_command_id = Command.browse(last.get(meter) or [])

    @api.constrains("gateway_id", "bus_address", "profile_id")
    def _check_bus_settings(self):
        for meter in self.filtered("gateway_id"):
            protocol = meter.gateway_id.protocol
            if meter.bus_address:
                with raise_as_odoo(self.env, lambda m=meter: self.env._("Meter %s", m.serial)):
                    canonical = fieldbus.check_address(protocol, meter.bus_address)
                if canonical != meter.bus_address:
                    meter.bus_address = canonical
            profile = meter.effective_profile_id
            if profile and (profile.protocol == fieldbus.PROTOCOL_DLT645) != (
                protocol == fieldbus.PROTOCOL_DLT645
            ):
                raise ValidationError(
                    self.env._(
                        "Meter %(meter)s: profile %(profile)s does not speak the protocol of "
                        "gateway %(gateway)s.",
                        meter=meter.serial,
                        profile=profile.name,
                        gateway=meter.gateway_id.name,
                    )
                )

    # ------------------------------------------------------------------ read cycle

    def _hw_meter_spec(self):
        self.ensure_one()
        profile = self.effective_profile_id
        # no profile: the bus's default (the generic Modbus map; DL/T 645 needs none)
        core_profile = profile._core_profile() if profile else None
        return fieldbus.MeterSpec(self.id, self.bus_address, core_profile or None)

    def _hw_capabilities(self):
        self.ensure_one()
        profile = self.effective_profile_id
        return profile._capabilities() if profile else frozenset()

    def _hw_zone(self):
        return zone_name(self.site_id, self.company_id)

    def _hw_after_cycle(self, cycle, now):
        """Store what a read cycle of these meters brought, then bill and apply the policy."""
        mine = set(self.ids)
        read = self.browse([key for key in cycle.readings if key in mine])
        failed = self.browse([key for key in cycle.errors if key in mine])
        readings = {meter: cycle.readings[meter.id] for meter in read}
        started = time.perf_counter()
        self._hw_ingest(readings)
        billed = time.perf_counter()
        read._hw_store_readings(readings, now)
        failed._hw_store_errors(cycle.errors, now)
        (read | failed)._hw_sync_states()
        stored = time.perf_counter()
        read._hw_apply_policy("cycle", now)
        read._hw_check_paid_but_off(now)
        _logger.info(
            "cycle of %d meters: ingest, price and post %.1f s, hardware state %.1f s,"
            " policy %.1f s",
            len(self),
            billed - started,
            stored - billed,
            time.perf_counter() - stored,
        )

    def _hw_ingest(self, readings):
        """Hand the readings ``{meter: MeterReading}`` to ingestion, stored priced in one pass."""
        if not readings:
            return self.env["prepaid.reading"]
        rows = [
            core_ingestion.row_from_meter_reading(reading, meter_id=meter.id)
            for meter, reading in readings.items()
        ]
        # the cycle applies the policy once for all its meters, after the billing
        Reading = self.env["prepaid.reading"].with_context(**{DEFER_POLICY: True})
        result = Reading._ingest(rows, price=True)
        for row, reason in result["rejected"]:
            _logger.warning("reading of meter %s refused: %s", row.get("meter_id"), reason)
        return result["created"]

    def _hw_store_readings(self, readings, now):
        """Online state, relay and meter-side values of the meters that answered."""
        opened = self._hw_commanded_open_reasons(readings)
        rows = {}
        fnames = [
            "hw_online_state",
            "hw_last_seen",
            "hw_missed_cycles",
            "hw_first_missed_at",
            "hw_offline_since",
            "hw_last_error",
            "relay_state",
            "relay_open_reason",
            "relay_changed_at",
            "relay_changes",
            "overload_trips",
            "meter_balance",
            "meter_purchase_count",
            "meter_values_date",
        ]
        back_online = self.filtered(lambda m: m.hw_online_state == "offline")
        for meter, reading in readings.items():
            relay, reason, changed, trips = meter._hw_relay_after(
                reading.relay_closed, now, opened.get(meter.id), reading.balance
            )
            has_values = reading.balance is not None or reading.purchase_count is not None
            rows[meter.id] = (
                "online",
                now,
                0,
                None,
                None,
                None,
                relay,
                reason,
                changed,
                meter.relay_changes + (relay != meter.relay_state),
                trips,
                reading.balance if reading.balance is not None else meter.meter_balance,
                reading.purchase_count
                if reading.purchase_count is not None
                else meter.meter_purchase_count,
                now if has_values else meter.meter_values_date,
            )
        update_rows(self, rows, fnames)
        for meter in back_online:
            meter.message_post(body=self.env._("Meter online again."))

    def _hw_relay_after(self, relay_closed, now, commanded_reason=None, meter_balance=None):
        """``(relay state, open reason, changed at, overload trips)`` after a read."""
        self.ensure_one()
        if meter_balance is None:
            meter_balance = self.meter_balance
        trips = self.overload_trips or []
        if relay_closed is None:
            return self.relay_state, self.relay_open_reason, self.relay_changed_at, trips or None
        state = "closed" if relay_closed else "open"
        if state == self.relay_state:
            return state, self.relay_open_reason, self.relay_changed_at, trips or None
        reason = supply.open_reason_after(
            self.relay_open_reason if self.relay_state == "open" else None,
            relay_closed,
            commanded_reason,
            protection_trips=bool(self.effective_profile_id.protection_trips),
            meter_bills_itself=self.billing_side == "meter" and meter_balance <= 0,
        )
        if reason == "overload":
            local_now = to_local(now, self._hw_zone())
            horizon = local_now - OVERLOAD_MEMORY
            trips = [t for t in trips if datetime.datetime.fromisoformat(t) > horizon]
            trips.append(local_now.isoformat())
            body = self.env._(
                "Relay found open without a command: the meter's protection tripped it "
                "(overload or malicious load)."
            )
            self.message_post(body=body)
        return state, reason or None, now, trips or None

    def _hw_commanded_open_reasons(self, readings):
        """``{meter id: reason}`` of our own trips not yet verified, for the meters read
        open: their opening is ours, not the meter's protection."""
        opening = [
            meter.id
            for meter, reading in readings.items()
            if reading.relay_closed is False and meter.relay_state != "open"
        ]
        if not opening:
            return {}
        commands = self.env["prepaid.meter.command"].search(
            [
                ("meter_id", "in", opening),
                ("action", "in", core_commands.OPENING),
                ("state", "in", core_commands.OPEN_STATES),
            ]
        )
        return {command.meter_id.id: command.open_reason or "manual" for command in commands}

    def _hw_store_errors(self, errors, now):
        """Count a missed cycle; K in a row make a meter offline."""
        went_offline = self.browse()
        rows = {}
        for meter in self:
            error = errors[meter.id]
            limit = meter.site_id.offline_after_cycles or 3
            missed = meter.hw_missed_cycles + 1
            first_missed = meter.hw_first_missed_at or now
            state, since = meter.hw_online_state, meter.hw_offline_since or None
            if missed >= limit and state != "offline":
                state, since = "offline", first_missed
                went_offline |= meter
            rows[meter.id] = (
                missed,
                first_missed,
                f"{error.kind}: {error.message}"[:250],
                state,
                since,
            )
        update_rows(
            self,
            rows,
            [
                "hw_missed_cycles",
                "hw_first_missed_at",
                "hw_last_error",
                "hw_online_state",
                "hw_offline_since",
            ],
        )
        for meter in went_offline:
            meter.message_post(
                body=self.env._(
                    "Meter offline: no answer for %(count)s cycles (%(error)s).",
                    count=meter.hw_missed_cycles,
                    error=meter.hw_last_error,
                )
            )

    @api.model
    def _hw_detect_stale(self, now):
        """Meters online but not heard of for K read intervals become offline."""
        meters = self.search([("hw_online_state", "=", "online"), ("gateway_id", "!=", False)])
        stale = meters.filtered(
            lambda m: (
                m.hw_last_seen
                and m.hw_last_seen
                < now
                - datetime.timedelta(
                    minutes=(m.site_id.reading_interval or 15)
                    * (m.site_id.offline_after_cycles or 3)
                )
            )
        )
        for meter in stale:
            meter.write(
                {
                    "hw_online_state": "offline",
                    "hw_offline_since": meter.hw_first_missed_at or meter.hw_last_seen,
                }
            )
            meter.message_post(
                body=self.env._("Meter offline: not heard of since %s.", meter.hw_last_seen)
            )
        stale._hw_sync_states()
        return stale

    def _hw_sync_states(self):
        """The meter state the hardware decides: offline, tripped, or back to the wallet's."""
        to_write = defaultdict(list)
        for meter in self:
            if meter.hw_online_state == "offline":
                state = words.OFFLINE
            elif not meter.account_id:
                state = words.NOT_OPENED
            elif meter.relay_state == "open":
                state = words.TRIPPED
            else:
                state = meter.account_id.alarm_level or words.NORMAL
            if state != meter.state:
                to_write[state].append(meter.id)
        for state, meter_ids in to_write.items():
            self.browse(meter_ids).write({"state": state})

    # ------------------------------------------------------------------ policy

    def _hw_apply_policy(self, origin, now=None, recharge=None):
        """Decide the relay of these meters and queue the commands the decisions ask for.

        No meter I/O here (this may run inside a money transaction): commands are
        queued and their action runs after commit. Each decision is logged in the
        meter's chatter once, when it changes.
        """
        now = now or fields.Datetime.now()
        meters = self.filtered(
            lambda m: (
                m.active
                and m.account_id.state == "open"
                and m.relay_capable
                and m.gateway_id
                and m.hw_online_state != "offline"
                and "relay" in m._hw_capabilities()
            )
        )
        if not meters:
            return self.env["prepaid.meter.command"]
        context = PolicyContext(self.env, now, meters)
        pending = meters._hw_open_supply_commands()
        rows, changes, to_queue = {}, [], []
        for meter in meters:
            facts = context.site_facts(meter)
            try:
                inputs, in_arrears = context.inputs(meter, facts)
                supply_is_on, schedule = facts.supply_for(meter.unit_id)
                decision = supply.decide(
                    inputs,
                    supply_is_on,
                    schedule,
                    opened_by_schedule=meter.relay_open_reason == supply.OPEN_SCHEDULE,
                )
            except PrepaidEnergyError as error:
                _logger.warning("policy of meter %s not applied: %s", meter.serial, error)
                continue
            row = meter._hw_policy_row(decision, in_arrears, now)
            if row:
                rows[meter.id] = row
                if decision.code != meter.policy_code and (
                    meter.policy_code or decision.code != policy.BALANCE_OK
                ):
                    changes.append((meter, decision))
            vals = meter._hw_policy_command_vals(decision, origin, recharge, pending, facts)
            if vals:
                to_queue.append(vals)
        update_rows(
            self,
            rows,
            ["policy_code", "policy_reason", "policy_date", "arrears_since", "relay_open_reason"],
        )
        for meter, decision in changes:
            meter.message_post(
                body=self.env._(
                    "Policy: %(reason)s [%(code)s]", reason=decision.reason, code=decision.code
                )
            )
        return self.env["prepaid.meter.command"]._queue(to_queue)

    def _hw_policy_row(self, decision, in_arrears, now):
        """The policy memory to store, or None when nothing changed."""
        self.ensure_one()
        arrears_since = (self.arrears_since or now) if in_arrears else None
        reason = supply.REASON_CHANGES.get(decision.code, self.relay_open_reason) or None
        same_code = decision.code == self.policy_code
        if (
            same_code
            and arrears_since == (self.arrears_since or None)
            and reason == (self.relay_open_reason or None)
        ):
            return None
        if same_code:
            return (
                self.policy_code,
                self.policy_reason,
                self.policy_date,
                arrears_since,
                reason,
            )
        return (decision.code, decision.reason[:250], now, arrears_since, reason)

    def _hw_open_supply_commands(self):
        """``{meter id: latest open supply command}`` (trip, close, valves)."""
        commands = self.env["prepaid.meter.command"].search(
            [
                ("meter_id", "in", self.ids),
                ("state", "in", core_commands.OPEN_STATES),
                ("action", "in", [a for a, g in core_commands.GROUPS.items() if g == "supply"]),
            ],
            order="id",
        )
        return {command.meter_id.id: command for command in commands}

    def _hw_policy_command_vals(self, decision, origin, recharge, pending, facts):
        """Values of the command ``decision`` asks for, or None (nothing to send)."""
        self.ensure_one()
        if decision.action == policy.NONE:
            return None
        if (
            decision.action == policy.TRIP
            and decision.code == policy.ARREARS_TRIP
            and self.billing_side == "meter"
        ):
            return None  # a meter that bills itself cuts the supply on its own balance
        action = core_commands.TRIP if decision.action == policy.TRIP else core_commands.CLOSE
        action = self._hw_utility_action(action)
        current = pending.get(self.id)
        if current and current.action == action:
            return None  # already on its way
        if action in core_commands.CLOSING and self.billing_side == "meter":
            credit_pending = self.command_ids.filtered(
                lambda c: (
                    c.action == core_commands.PUSH_CREDIT and c.state in core_commands.OPEN_STATES
                )
            )
            if credit_pending:
                return None  # closed once the meter holds the credit
        # one command per decision, relay episode (since its last change) and slot: a
        # failed one is asked again next slot, a new trip after a reconnect is new
        slot = int(facts.local_now.timestamp() // facts.interval.total_seconds())
        episode = self.relay_changes
        key = (
            f"recharge:{recharge.id}:{self.id}:{action}"
            if recharge
            else f"policy:{self.id}:{action}:{decision.code}:{episode}:{slot}"
        )
        return {
            "meter_id": self.id,
            "action": action,
            "origin": "recharge" if recharge else "policy",
            "recharge_id": recharge.id if recharge else False,
            "policy_code": decision.code,
            "reason": decision.reason,
            "open_reason": supply.TRIP_REASONS.get(decision.code, "arrears")
            if action in core_commands.OPENING
            else False,
            "idempotency_key": key,
        }

    # ------------------------------------------------------------------ paid but still off

    def _hw_check_paid_but_off(self, now):
        """Open account, positive balance, relay read open too long: flag it and tell staff.

        Overdue fees that trip the meter are not paid: such a meter is off for them."""
        flagged, cleared = self.browse(), self.browse()
        since_rows = {}
        fees_due = set(self.account_id.filtered("fee_disconnection_due").ids)
        for meter in self:
            account = meter.account_id
            paid_off = (
                meter.relay_state == "open"
                and account.state == "open"
                and account.balance > 0
                and not account.in_arrears
                and account.id not in fees_due
            )
            if not paid_off:
                if meter.paid_but_off_since or meter.paid_but_off:
                    cleared |= meter
                continue
            since = meter.paid_but_off_since or now
            if not meter.paid_but_off_since:
                since_rows[meter.id] = since
            limit = datetime.timedelta(minutes=max(meter.site_id.paid_but_off_minutes, 0))
            if not meter.paid_but_off and now - since >= limit:
                flagged |= meter
        for meter_id, since in since_rows.items():
            self.browse(meter_id).paid_but_off_since = since
        if cleared:
            cleared.write({"paid_but_off_since": False, "paid_but_off": False})
        if flagged:
            flagged.write({"paid_but_off": True})
            flagged._hw_notify_paid_but_off()

    def _hw_notify_paid_but_off(self):
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for meter in self:
            responsible = meter.gateway_id.create_uid or self.env.user
            meter.activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                summary=self.env._("Paid but still off"),
                note=Markup("<p>%s</p>")
                % self.env._(
                    "Account %(account)s is in credit (%(balance)s) but the relay of %(meter)s "
                    "has been read open since %(since)s. Check the meter or close it.",
                    account=meter.account_id.display_name,
                    balance=meter.account_id._format_amount(meter.account_id.balance),
                    meter=meter.display_name,
                    since=meter.paid_but_off_since,
                ),
                user_id=responsible.id,
            )

    # ------------------------------------------------------------------ actions

    def action_view_commands(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy_hw.action_prepaid_meter_command"
        )
        action["domain"] = [("meter_id", "=", self.id)]
        action["context"] = {"default_meter_id": self.id}
        return action

    def _hw_staff_command(self, action):
        """Queue ``action`` for these meters on behalf of the current user."""
        self.check_access("write")
        Command = self.env["prepaid.meter.command"]
        vals_list = [
            {
                "meter_id": meter.id,
                "action": meter._hw_utility_action(action),
                "origin": "staff",
                "user_id": self.env.uid,
                "reason": self.env._("asked by %s", self.env.user.name),
                "open_reason": "manual",
            }
            for meter in self
        ]
        return Command.sudo()._queue(vals_list).sudo(False)

    def _hw_utility_action(self, action):
        """A trip of a water meter closes its valve, a close opens it."""
        self.ensure_one()
        if self.utility == words.WATER:
            return {
                core_commands.TRIP: core_commands.VALVE_CLOSE,
                core_commands.CLOSE: core_commands.VALVE_OPEN,
            }.get(action, action)
        return action

    def _hw_status_rows(self):
        """Each meter's live status, as the XLSX export shows it."""
        states = dict(self._fields["state"].selection)
        relays = dict(RELAY_STATES)
        levels = dict(self.env["prepaid.account"]._fields["alarm_level"].selection)
        commands = dict(self.env["prepaid.meter.command"]._fields["action"].selection)
        command_states = dict(self.env["prepaid.meter.command"]._fields["state"].selection)
        rows = []
        for meter in self:
            account = meter.account_id
            command = meter.last_command_id
            rows.append(
                {
                    "serial": meter.serial,
                    "unit": meter.unit_id.complete_name or "",
                    "tenant": meter.partner_id.display_name or "",
                    "account": account.name or "",
                    "state": states.get(meter.state, ""),
                    "balance": account.balance if account else None,
                    "alarm": levels.get(account.alarm_level, "") if account else "",
                    "relay": relays.get(meter.relay_state, ""),
                    "online": meter.hw_online_state == "online",
                    "last_reading_at": meter.last_reading_date or None,
                    "last_total": meter.last_total if meter.last_reading_date else None,
                    "today": meter.today_quantity,
                    "meter_balance": meter.meter_balance if meter.meter_values_date else None,
                    "purchase_count": meter.meter_purchase_count
                    if meter.meter_values_date
                    else None,
                    "last_command": commands.get(command.action, "") if command else "",
                    "last_command_state": command_states.get(command.state, "") if command else "",
                }
            )
        return rows

    def action_export_status_xlsx(self):
        """Download the live status of these meters (when none is selected: every meter
        of the companies the user works in)."""
        meters = self or self.search([("company_id", "in", self.env.companies.ids)])
        attachment = self.env["prepaid.batch.task"]._status_attachment(meters)
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_board_recharge(self):
        """The cashier's wizard on this meter's account."""
        self.ensure_one()
        if self.account_id.state != "open":
            raise UserError(self.env._("Meter %s has no open account.", self.display_name))
        return self.account_id.action_recharge()

    def action_hw_trip(self):
        self._hw_staff_command(core_commands.TRIP)
        return True

    def action_hw_close(self):
        self._hw_staff_command(core_commands.CLOSE)
        return True

    def action_hw_keep_power_on(self):
        self._hw_staff_command(core_commands.KEEP_POWER_ON)
        return True

    def action_hw_keep_power_off(self):
        self._hw_staff_command(core_commands.KEEP_POWER_OFF)
        return True

    def action_hw_read_now(self):
        self._hw_staff_command(core_commands.READ)
        return True

    def action_hw_sync_time(self):
        self._hw_staff_command(core_commands.SYNC_TIME)
        return True
