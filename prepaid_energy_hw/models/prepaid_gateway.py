import contextlib
import datetime
import logging

from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.exceptions import UserError
from odoo.tools import SQL

from prepaid_energy_core import fieldbus

_logger = logging.getLogger(__name__)

ONLINE_STATES = [("unknown", "Not read yet"), ("online", "Online"), ("offline", "Offline")]
#: first key of the PostgreSQL advisory locks that keep one request in flight per bus
#: across workers (the read cycle, the command runner and a scan never share a bus)
BUS_LOCK_CLASS = 0x50454857  # "PEHW"
#: gateways read per cron call; the cron runs again at once while some are due
GATEWAYS_PER_RUN = 400
#: seconds one read cycle may take (poller budget), ir.config_parameter
CYCLE_BUDGET_PARAM = "prepaid_energy_hw.cycle_budget"
DEFAULT_CYCLE_BUDGET = 50.0


class PrepaidGateway(models.Model):
    """One bus: a transparent TCP gateway, a Modbus TCP gateway or a local serial port."""

    _name = "prepaid.gateway"
    _description = "Meter gateway (one bus)"
    _inherit = ["mail.thread"]
    _order = "site_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    site_id = fields.Many2one(
        "prepaid.location",
        required=True,
        index=True,
        check_company=True,
        domain="[('location_type', '=', 'site')]",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    transport = fields.Selection(
        list(fieldbus.TRANSPORT_LABELS), required=True, default=fieldbus.TRANSPORT_TCP
    )
    protocol = fields.Selection(
        list(fieldbus.PROTOCOL_LABELS), required=True, default=fieldbus.PROTOCOL_MODBUS_RTU
    )
    host = fields.Char(help="Address of a TCP gateway.")
    port = fields.Integer(help="TCP port of the gateway.")
    device = fields.Char(help="Serial port device of a local bus, e.g. /dev/ttyUSB0.")
    baudrate = fields.Integer(string="Baud rate", default=9600)
    parity = fields.Selection(
        [("N", "None"), ("E", "Even"), ("O", "Odd")], default="N", required=True
    )
    timeout_ms = fields.Integer(
        string="Reply timeout (ms)",
        default=500,
        help="How long one request waits for its reply. A dead meter costs this once a cycle.",
    )
    default_profile_id = fields.Many2one(
        "prepaid.meter.profile",
        string="Default meter profile",
        help="Profile of the meters of this bus that name none.",
    )
    dlt645_password = fields.Char(
        string="DL/T 645 password",
        default="02000000",
        groups="prepaid_energy.group_prepaid_manager",
        help="Level and 6 hex digits (PAP2P1P0) sent with writes and relay commands.",
    )
    dlt645_operator = fields.Char(
        string="DL/T 645 operator code", default="00000000", help="8 hex digits."
    )
    active = fields.Boolean(default=True)
    meter_ids = fields.One2many("prepaid.meter", "gateway_id", string="Meters")
    meter_count = fields.Integer(compute="_compute_meter_count")
    online_state = fields.Selection(
        ONLINE_STATES, default="unknown", required=True, readonly=True, copy=False
    )
    last_seen = fields.Datetime(readonly=True, copy=False, help="Last cycle a meter answered.")
    missed_cycles = fields.Integer(readonly=True, copy=False)
    first_missed_at = fields.Datetime(readonly=True, copy=False)
    offline_since = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Char(readonly=True, copy=False)
    last_cycle_at = fields.Datetime(string="Last read", readonly=True, copy=False)
    last_cycle_summary = fields.Char(readonly=True, copy=False)
    next_read_at = fields.Datetime(readonly=True, copy=False, index=True)

    _sql_constraints = [
        (
            "timeout_positive",
            "CHECK(timeout_ms > 0)",
            "The reply timeout must be positive.",
        ),
    ]

    def _compute_meter_count(self):
        counts = dict(
            self.env["prepaid.meter"]._read_group(
                [("gateway_id", "in", self.ids)], ["gateway_id"], ["__count"]
            )
        )
        for gateway in self:
            gateway.meter_count = counts.get(gateway, 0)

    @api.constrains("transport", "protocol", "host", "port", "device", "baudrate", "parity")
    def _check_connection(self):
        for gateway in self:
            with raise_as_odoo(self.env):
                gateway._to_core_spec()

    def _to_core_spec(self):
        """The gateway as fieldbus.GatewaySpec."""
        self.ensure_one()
        gateway = self.sudo()  # the password is the manager's to read, the bus needs it
        return fieldbus.GatewaySpec(
            name=gateway._bus_name(),
            transport=gateway.transport,
            protocol=gateway.protocol,
            host=(gateway.host or "").strip() or None,
            port=gateway.port or None,
            device=(gateway.device or "").strip() or None,
            baudrate=gateway.baudrate,
            parity=gateway.parity,
            timeout=gateway.timeout_ms / 1000.0,
            password=gateway.dlt645_password or "02000000",
            operator=gateway.dlt645_operator or "00000000",
        )

    def _bus_name(self):
        """The gateway's name in a read cycle (unique: the id is in it)."""
        return f"{self.name} [{self.id}]"

    # ------------------------------------------------------------------ bus locks

    @contextlib.contextmanager
    def _bus_locks(self):
        """Hold the buses of these gateways that are free; yield those gateways.

        Session-level advisory locks on a cursor of their own (which runs nothing
        else, so it can always release them), taken without waiting and released
        at the end: a bus busy in another worker (read cycle, command runner,
        scan) is left out, never talked to twice at once.
        """
        locked = self.browse()
        with self.env.registry.cursor() as lock_cr:
            try:
                for gateway in self:
                    lock_cr.execute(
                        SQL("SELECT pg_try_advisory_lock(%s, %s)", BUS_LOCK_CLASS, gateway.id)
                    )
                    if lock_cr.fetchone()[0]:
                        locked |= gateway
                yield locked
            finally:
                for gateway in locked:
                    lock_cr.execute(
                        SQL("SELECT pg_advisory_unlock(%s, %s)", BUS_LOCK_CLASS, gateway.id)
                    )

    # ------------------------------------------------------------------ reading cycle

    @api.model
    def _cron_read_meters(self, batch_size=GATEWAYS_PER_RUN):
        """Read the meters of the gateways due (per-site interval) and bill the readings."""
        now = fields.Datetime.now()
        due = self._gateways_due(now)
        batch = due[:batch_size]
        if batch:
            batch._read_cycle(now)
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(due) - len(batch))
        return len(batch)

    @api.model
    def _gateways_due(self, now):
        return self.search(
            [
                ("site_id.active", "=", True),
                "|",
                ("next_read_at", "=", False),
                ("next_read_at", "<=", now),
            ],
            order="next_read_at, id",
        )

    def _read_cycle(self, now=None):
        """One read cycle of these gateways: read, ingest, price, hardware state, policy."""
        now = now or fields.Datetime.now()
        Meter = self.env["prepaid.meter"]
        with self._bus_locks() as gateways:
            busy = self - gateways
            if busy:
                _logger.info("read cycle: %d bus(es) busy, read next time", len(busy))
            meters = Meter.search(
                [("gateway_id", "in", gateways.ids), ("bus_address", "!=", False)],
                order="gateway_id, id",
            )
            plan = gateways._cycle_plan(meters)
            cycle = fieldbus.read_cycle(plan, budget=self._cycle_budget())
        _logger.info("read cycle of %d gateway(s): %s", len(gateways), cycle.summary())
        meters._hw_after_cycle(cycle, now)
        gateways._hw_after_cycle(cycle, now)
        return cycle

    def _cycle_plan(self, meters):
        """``[(GatewaySpec, [MeterSpec])]`` for a read cycle of ``meters``."""
        by_gateway = {gateway: [] for gateway in self}
        for meter in meters:
            by_gateway[meter.gateway_id].append(meter._hw_meter_spec())
        return [(gateway._to_core_spec(), specs) for gateway, specs in by_gateway.items()]

    @api.model
    def _cycle_budget(self):
        value = self.env["ir.config_parameter"].sudo().get_param(CYCLE_BUDGET_PARAM)
        try:
            return float(value) if value else DEFAULT_CYCLE_BUDGET
        except ValueError:
            return DEFAULT_CYCLE_BUDGET

    def _hw_after_cycle(self, cycle, now):
        """Online state and next read time of the gateways of a cycle."""
        down = self.filtered(lambda g: g._bus_name() in cycle.gateways_down)
        answered = (self - down).filtered(lambda g: g._bus_name() in cycle.gateways_up)
        if answered:
            answered.write(
                {
                    "online_state": "online",
                    "last_seen": now,
                    "missed_cycles": 0,
                    "first_missed_at": False,
                    "offline_since": False,
                    "last_error": False,
                }
            )
        for gateway in down:
            errors = [e for e in cycle.errors.values() if e.bus == gateway._bus_name()]
            gateway._hw_missed_cycle(now, errors[0].message if errors else "")
        for site, gateways in self.grouped("site_id").items():
            interval = datetime.timedelta(minutes=site.reading_interval or 15)
            gateways.write({"last_cycle_at": now, "next_read_at": now + interval})
        for gateway in self:
            gateway.last_cycle_summary = gateway._cycle_summary(cycle)

    def _cycle_summary(self, cycle):
        name = self._bus_name()
        stats = next((s for s in cycle.poll.buses if s.bus == name), None)
        if stats is None:
            return self.env._("no meter to read")
        return self.env._(
            "%(read)s read, %(failed)s failed, %(skipped)s skipped in %(seconds).1f s",
            read=stats.read,
            failed=stats.failed,
            skipped=stats.skipped,
            seconds=stats.elapsed,
        )

    def _hw_missed_cycle(self, now, error):
        self.ensure_one()
        limit = self.site_id.offline_after_cycles or 3
        missed = self.missed_cycles + 1
        values = {
            "missed_cycles": missed,
            "first_missed_at": self.first_missed_at or now,
            "last_error": (error or "")[:250] or False,
        }
        if missed >= limit and self.online_state != "offline":
            values.update(online_state="offline", offline_since=self.first_missed_at or now)
            self.message_post(
                body=self.env._(
                    "Gateway offline: no answer for %(count)s cycles (%(error)s).",
                    count=missed,
                    error=error or self.env._("no reply"),
                )
            )
        self.write(values)

    @api.model
    def _cron_detect_offline(self):
        """Gateways and meters not seen for K read intervals are offline (even when
        no cycle ran, e.g. a gateway switched off for good or a cron stopped)."""
        now = fields.Datetime.now()
        gateways = self.search([("online_state", "=", "online")])
        stale = gateways.filtered(lambda g: g.last_seen and g.last_seen < now - g._silence_limit())
        for gateway in stale:
            gateway.write(
                {
                    "online_state": "offline",
                    "offline_since": gateway.first_missed_at or gateway.last_seen,
                }
            )
            gateway.message_post(
                body=self.env._("Gateway offline: not seen since %s.", gateway.last_seen)
            )
        meters = self.env["prepaid.meter"]._hw_detect_stale(now)
        self.env["ir.cron"]._notify_progress(done=len(stale) + len(meters), remaining=0)
        return stale, meters

    def _silence_limit(self):
        site = self.site_id
        return datetime.timedelta(
            minutes=(site.reading_interval or 15) * (site.offline_after_cycles or 3)
        )

    # ------------------------------------------------------------------ actions

    def action_read_now(self):
        """Read these gateways' meters at the next run of the read action (in a moment)."""
        self.write({"next_read_at": fields.Datetime.now()})
        self.env.ref("prepaid_energy_hw.ir_cron_prepaid_read_meters")._trigger()
        return True

    def action_scan(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Scan bus %s", self.name),
            "res_model": "prepaid.gateway.scan.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_gateway_id": self.id},
        }

    def action_view_meters(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy.action_prepaid_meter"
        )
        action["domain"] = [("gateway_id", "=", self.id)]
        action["context"] = {"default_gateway_id": self.id}
        return action

    def _scan(self, candidates, timeout=None):
        """The addresses among ``candidates`` that answer; UserError when the bus is busy
        or cannot be reached."""
        self.ensure_one()
        with self._bus_locks() as locked:
            if not locked:
                raise UserError(
                    self.env._(
                        "Bus %s is busy (a read or a command): scan again in a moment.", self.name
                    )
                )
            with raise_as_odoo(self.env, lambda: self.env._("Cannot scan %s", self.name)):
                return fieldbus.scan(self._to_core_spec(), candidates, timeout)
