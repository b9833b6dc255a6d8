import bisect
import datetime
import functools
import json
from decimal import Decimal

import pytz
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from prepaid_energy_core import readings as core_readings
from prepaid_energy_core.drivers.base import TOU_BANDS
from prepaid_energy_core.errors import ValidationError as CoreValidationError
from prepaid_energy_core.tariff import PricingState, price_readings

from .prepaid_reading import insert_rows, pg_array, register_decimal

METER_STATES = [
    ("not_opened", "Not opened"),
    ("normal", "Normal"),
    ("alarm1", "Alarm 1"),
    ("alarm2", "Alarm 2"),
    ("arrears", "Arrears"),
    ("tripped", "Tripped"),
    ("offline", "Offline"),
]
#: core reading flag -> the tag stored on prepaid.reading.flags
FLAG_TAGS = {"meter_replacement": "replacement"}
#: meters priced per cron call; the cron runs again at once while some are left
PRICING_BATCH = 2000
#: what pricing reads of meters and readings (fetched per batch)
PRICING_METER_FIELDS = [
    "account_id",
    "tariff_id",
    "site_id",
    "company_id",
    "utility",
    "multiplier",
    "serial",
    "priced_reading_id",
    "pricing_state",
    "pricing_error",
]
PRICING_READING_FIELDS = ["meter_id", "timestamp", "raw_delta", "has_bands", "flags", *TOU_BANDS]


class PrepaidMeter(models.Model):
    _name = "prepaid.meter"
    _description = "Electricity or water meter"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "serial, id"
    _check_company_auto = True
    _rec_names_search = ["serial", "name"]

    name = fields.Char(required=True, tracking=True)
    serial = fields.Char(required=True, index=True, tracking=True, copy=False)
    utility = fields.Selection(
        [("electricity", "Electricity"), ("water", "Water")],
        required=True,
        default="electricity",
        tracking=True,
    )
    unit_id = fields.Many2one(
        "prepaid.location",
        string="Location",
        index=True,
        check_company=True,
        tracking=True,
        ondelete="restrict",
        help="Usually a unit; a site or building for common-area meters.",
    )
    site_id = fields.Many2one(related="unit_id.site_id", store=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        copy=False,
    )
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant")
    tariff_id = fields.Many2one(
        "prepaid.tariff",
        string="Tariff override",
        check_company=True,
        tracking=True,
        help="Empty: the site's default tariff.",
    )
    effective_tariff_id = fields.Many2one(
        "prepaid.tariff", compute="_compute_effective_tariff_id", string="Tariff"
    )
    multiplier = fields.Float(
        digits=(12, 4), default=1.0, required=True, tracking=True, help="CT x PT ratio."
    )
    billing_side = fields.Selection(
        [("platform", "Platform bills"), ("meter", "Meter bills (pushed credit)")],
        default="platform",
        required=True,
    )
    relay_capable = fields.Boolean(string="Has relay", default=True)
    keep_power = fields.Boolean(
        tracking=True, help="Never cut automatically (medical, safety, common areas)."
    )
    state = fields.Selection(
        METER_STATES, default="not_opened", required=True, tracking=True, copy=False
    )
    rated_current = fields.Float(string="Rated current (A)", help="Imax; for spike checks.")
    voltage = fields.Float(string="Voltage (V)", help="Phase-to-neutral; for spike checks.")
    phases = fields.Selection([("1", "Single phase"), ("3", "Three phase")], default="1")
    max_flow = fields.Float(string="Max flow (m³/h)", help="Water meters; for spike checks.")
    register_limit = fields.Float(
        digits=(16, 4),
        help="First value the register cannot show (1000000 for 6+2 digits); 0: never wraps.",
    )
    install_date = fields.Date(tracking=True)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    note = fields.Html()

    reading_ids = fields.One2many("prepaid.reading", "meter_id", string="Readings")
    charge_ids = fields.One2many("prepaid.charge", "meter_id", string="Charges")
    reading_count = fields.Integer(compute="_compute_counts")
    charge_count = fields.Integer(compute="_compute_counts")
    last_reading_id = fields.Many2one("prepaid.reading", readonly=True, copy=False)
    last_reading_date = fields.Datetime(readonly=True, copy=False)
    last_total = fields.Float(digits=(16, 4), readonly=True, copy=False)
    priced_reading_id = fields.Many2one(
        "prepaid.reading",
        readonly=True,
        copy=False,
        help="The last reading billed: the start of the next pricing.",
    )
    pricing_state = fields.Json(readonly=True, copy=False, help="The tariff engine's memory.")
    pricing_error = fields.Char(readonly=True, copy=False)

    _sql_constraints = [
        (
            "serial_company_unique",
            "UNIQUE(company_id, serial)",
            "A meter serial must be unique within a company.",
        ),
        ("multiplier_positive", "CHECK(multiplier > 0)", "The multiplier must be positive."),
        (
            "register_limit_positive",
            "CHECK(register_limit >= 0)",
            "The register limit cannot be negative.",
        ),
    ]

    @api.depends("serial", "name")
    def _compute_display_name(self):
        for meter in self:
            if meter.name and meter.name != meter.serial:
                meter.display_name = f"{meter.serial} - {meter.name}"
            else:
                meter.display_name = meter.serial or meter.name or ""

    @api.depends("tariff_id", "site_id.default_tariff_id")
    def _compute_effective_tariff_id(self):
        for meter in self:
            meter.effective_tariff_id = meter._get_tariff()

    def _compute_counts(self):
        for field, model in (
            ("reading_count", "prepaid.reading"),
            ("charge_count", "prepaid.charge"),
        ):
            counts = dict(
                self.env[model]._read_group(
                    [("meter_id", "in", self.ids)], ["meter_id"], ["__count"]
                )
            )
            for meter in self:
                meter[field] = counts.get(meter, 0)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") and vals.get("serial"):
                vals["name"] = vals["serial"]
        return super().create(vals_list)

    def _get_tariff(self):
        """The tariff this meter is billed with: its override, else its site's default."""
        self.ensure_one()
        return self.tariff_id or self.site_id.default_tariff_id

    def _meter_action(self, xmlid, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("meter_id", "=", self.id)]
        action["context"] = context or {}
        return action

    def action_view_readings(self):
        return self._meter_action(
            "prepaid_energy.action_prepaid_reading", {"default_meter_id": self.id}
        )

    def action_view_charges(self):
        return self._meter_action("prepaid_energy.action_prepaid_charge")

    # ------------------------------------------------------------------ reading validation

    def _slot_interval(self):
        return datetime.timedelta(minutes=self.site_id.reading_interval or 15)

    def _reading_config(self):
        """How the core judges this meter's readings."""
        self.ensure_one()
        electric = self.utility == "electricity"
        with_power = electric and self.rated_current and self.voltage
        return reading_config(
            self.site_id.reading_interval or 15,
            self.register_limit,
            self.multiplier,
            self.utility,
            self.rated_current if with_power else 0,
            self.voltage if with_power else 0,
            int(self.phases or 1),
            self.max_flow if not electric else 0,
        )

    def _core_last_reading(self):
        """The last accepted reading as the core sees it, or None."""
        last_date = self.last_reading_date
        if not last_date:
            return None
        return core_readings.Reading(last_date, register_decimal(self.last_total))

    def _prepare_reading_vals(self, values, checked, hold_reason):
        """Values of a reading the core checked (``hold_reason``: why it is held)."""
        bands = values["bands"]
        account = self.account_id
        if hold_reason:
            state = "rejected"
        else:
            state = "new" if account else "unbilled"
        vals = {
            "meter_id": self.id,
            "account_id": account.id,
            "timestamp": values["timestamp"],
            "slot": values["slot"],
            "total": values["total"],
            "has_bands": bool(bands),
            "raw_delta": checked.raw_delta,
            "delta": checked.delta,
            "flags": ",".join(FLAG_TAGS.get(flag, flag) for flag in checked.flags) or False,
            "is_estimate": values["is_estimate"],
            "source": values["source"],
            "state": state,
            "reject_reason": hold_reason or False,
        }
        vals.update({band: bands.get(band, 0) for band in TOU_BANDS})
        return vals

    @api.model
    def _move_last_reading(self, readings, vals_list):
        """Point each meter at its latest accepted reading among the new ``readings``
        (created from ``vals_list``, read from there rather than fetched back)."""
        latest = {}
        for reading_id, vals in zip(readings.ids, vals_list):
            if vals["state"] == "rejected":
                continue
            current = latest.get(vals["meter_id"])
            if current is None or vals["timestamp"] > current[1]:
                latest[vals["meter_id"]] = (reading_id, vals["timestamp"], vals["total"])
        self._write_rows(
            [(meter_id, *reading) for meter_id, reading in latest.items()],
            ("last_reading_id", "last_reading_date", "last_total"),
            ("int", "timestamp", "numeric"),
        )

    def _write_rows(self, rows, fnames, types):
        """Write different values to many meters in one UPDATE (a write per meter is slow).

        ``rows``: ``(meter id, value, ...)`` in the order of ``fnames``; ``types``
        the SQL types of the values. The ORM cache of these fields is refreshed.
        """
        if not rows:
            return
        self.flush_model(fnames)
        columns = SQL(", ").join(SQL.identifier(fname) for fname in fnames)
        assignments = SQL(", ").join(
            SQL("%s = v.%s::%s", SQL.identifier(fname), SQL.identifier(fname), SQL(kind))
            for fname, kind in zip(fnames, types)
        )
        # one array per column: cheaper to build and parse than a VALUES list (pg_array)
        arrays = SQL(", ").join(
            SQL("%s::%s[]", pg_array(values), SQL(kind))
            for values, kind in zip(zip(*rows), ("int", *types))
        )
        self.env.cr.execute(
            SQL(
                "UPDATE prepaid_meter m SET %s, write_date = NOW() AT TIME ZONE 'UTC'"
                " FROM unnest(%s) AS v(id, %s) WHERE m.id = v.id",
                assignments,
                arrays,
                columns,
            )
        )
        meters = self.browse([row[0] for row in rows])
        meters.invalidate_recordset([*fnames, "write_date"])
        meters.modified(fnames)

    # ------------------------------------------------------------------ account life cycle

    def _open_on_account(self, account, start_reading=None):
        """Start billing this meter to ``account`` from ``start_reading`` (register value).

        Consumption before the start reading is nobody's: that reading is not billed
        and the tariff engine starts a fresh cycle memory.
        """
        self.ensure_one()
        if self.account_id and self.account_id != account:
            raise UserError(
                self.env._(
                    "Meter %(meter)s already bills account %(account)s.",
                    meter=self.display_name,
                    account=self.account_id.display_name,
                )
            )
        self.write({"account_id": account.id, "state": "normal", "pricing_state": False})
        start = self._record_start_reading(start_reading)
        self.write({"priced_reading_id": start.id, "pricing_error": False})
        return start

    def _record_start_reading(self, start_reading):
        """The reading billing starts from: given, or the last accepted one."""
        Reading = self.env["prepaid.reading"]
        if isinstance(start_reading, models.BaseModel):
            start = start_reading
        elif start_reading is None:
            start = self.last_reading_id
        else:
            result = Reading._ingest(
                [
                    {
                        "meter_id": self.id,
                        "timestamp": fields.Datetime.now(),
                        "total": start_reading,
                        "source": "manual",
                    }
                ],
                strict=True,
            )
            if result["rejected"]:
                raise UserError(result["rejected"][0][1])
            start = result["created"] or result["duplicates"][0][1]
        if not start:
            raise UserError(
                self.env._("Meter %s has no reading yet: give a start reading.", self.serial)
            )
        # Everything up to the start reading was read before this account: not billed.
        Reading.search(
            [
                ("meter_id", "=", self.id),
                ("state", "=", "new"),
                ("timestamp", "<=", start.timestamp),
            ]
        ).with_context(prepaid_reading_checked=True).write({"state": "unbilled"})
        return start

    def _close_meter(self, final_reading=None):
        """Bill up to ``final_reading`` (register value) and detach the meter from its account."""
        self.ensure_one()
        if final_reading is not None:
            result = self.env["prepaid.reading"]._ingest(
                [
                    {
                        "meter_id": self.id,
                        "timestamp": fields.Datetime.now(),
                        "total": final_reading,
                        "source": "manual",
                    }
                ],
                strict=True,
            )
            if result["rejected"]:
                raise UserError(result["rejected"][0][1])
        # Pricing books charges and ledger lines, which only the system writes; the
        # caller must be allowed to change this meter.
        self.check_access("write")
        self.sudo()._price_new_readings()
        if self.pricing_error:
            raise UserError(
                self.env._(
                    "Meter %(meter)s cannot be billed up to its final reading: %(error)s",
                    meter=self.display_name,
                    error=self.pricing_error,
                )
            )
        self.write({"account_id": False, "state": "not_opened", "pricing_state": False})

    # ------------------------------------------------------------------ pricing

    @api.model
    def _cron_price_readings(self, batch_size=PRICING_BATCH):
        """Price new readings into charges and post consumption to the wallets."""
        meter_ids = self._meter_ids_to_price()
        batch = self.browse(meter_ids[:batch_size])
        batch._price_new_readings()
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(meter_ids) - len(batch))
        return len(batch)

    @api.model
    def _meter_ids_to_price(self):
        self.env["prepaid.reading"].flush_model(["state", "meter_id"])
        self.flush_model(["account_id", "pricing_error", "write_date"])
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT r.meter_id FROM prepaid_reading r"
                " JOIN prepaid_meter m ON m.id = r.meter_id"
                " WHERE r.state = 'new' AND m.account_id IS NOT NULL ORDER BY r.meter_id"
            )
        )
        return [row[0] for row in rows]

    def _price_new_readings(self):
        """Price these meters' new readings: charges, one ledger line per meter, new state."""
        self._lock_for_pricing()
        # what the pricing reads, in one query each instead of every column on first use
        self.fetch(PRICING_METER_FIELDS)
        readings = self.env["prepaid.reading"].search_fetch(
            [("meter_id", "in", self.ids), ("state", "=", "new")],
            PRICING_READING_FIELDS,
            order="meter_id, timestamp, id",
        )
        self.priced_reading_id.fetch(PRICING_READING_FIELDS)
        by_meter = {}
        for reading in readings:
            by_meter.setdefault(reading.meter_id, []).append(reading)
        tariffs, cache = {}, {}
        priced, errors = [], []
        for meter, meter_readings in by_meter.items():
            if not meter.account_id:
                continue
            try:
                result, core = meter._price_with_engine(meter_readings, tariffs, cache)
            except (CoreValidationError, UserError, ValidationError) as error:
                errors.append((meter, str(error)))
                continue
            priced.append((meter, meter_readings, result, core))
        self._book_pricing(priced, cache)
        for meter, error in errors:
            if meter.pricing_error != error:
                meter.pricing_error = error
        return priced

    def _lock_for_pricing(self):
        """Serialize pricing per meter: a reading is never priced twice by two
        transactions (cron and a meter being closed at the same time)."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM prepaid_meter WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["priced_reading_id", "pricing_state", "account_id"])

    def _price_with_engine(self, readings, tariffs, cache=None):
        """Run the engine on ``readings`` (this meter's new ones, in time order).

        ``tariffs`` and ``cache`` keep what the meters of a run share (core
        tariffs, site zones, currency digits).
        """
        cache = {} if cache is None else cache
        tariff = self._get_tariff()
        if not tariff:
            raise UserError(self.env._("meter %s has no tariff (nor its site)", self.serial))
        if tariff.id not in tariffs:
            tariffs[tariff.id] = tariff._to_core()
        zone = self._site_zone(cache)
        start = self.priced_reading_id
        chain = readings if start else readings[1:]
        start = start or readings[0]
        core = [start._to_core_reading(zone, Decimal(0), start.has_bands)]
        cumulative = Decimal(0)
        previous = start
        for reading in chain:
            cumulative += register_decimal(reading.raw_delta)
            use_bands = (
                reading.has_bands and previous.has_bands and self._bands_follow(previous, reading)
            )
            core_reading = reading._to_core_reading(zone, cumulative, use_bands)
            if core_reading.timestamp <= core[-1].timestamp:
                # clocks went back (DST end): book the interval at the previous moment
                core_reading = core_reading._replace(
                    timestamp=core[-1].timestamp + datetime.timedelta(microseconds=1)
                )
            if not use_bands and core[-1].bands is not None:
                core[-1] = core[-1]._replace(bands=None)
            core.append(core_reading)
            previous = reading
        pricing_state = self.pricing_state  # a Json read deep-copies: once
        state = PricingState.from_dict(pricing_state) if pricing_state else None
        company = self.company_id
        if ("digits", company.id) not in cache:
            cache["digits", company.id] = company.currency_id.decimal_places
        result = price_readings(
            tariffs[tariff.id],
            core,
            state,
            multiplier=register_decimal(self.multiplier),
            digits=cache["digits", company.id],
        )
        return result, core

    @staticmethod
    def _bands_follow(previous, reading):
        # band registers are split only when no band went back (rollover, replacement)
        if reading.flags and ("rollover" in reading.flags or "replacement" in reading.flags):
            return False
        return all(reading[band] >= previous[band] for band in TOU_BANDS)

    def _site_zone(self, cache=None):
        """The time zone name of the site's clock (TOU bands, cycles)."""
        cache = {} if cache is None else cache
        site = self.site_id  # in its meters' company: the site alone is the key
        key = ("zone", site or self.company_id)
        if key not in cache:
            cache[key] = site.tz or self.company_id.partner_id.tz or "UTC"
        return cache[key]

    def _book_pricing(self, priced, cache=None):
        """Store what the engine priced: ledger lines, charges, meter memory, reading states."""
        cache = {} if cache is None else cache
        if not priced:
            return
        # one consumption ledger line per meter and run (none when nothing was consumed)
        to_post = [entry for entry in priced if entry[2].lines]
        ledger_lines = self.env["prepaid.ledger.line"]
        if to_post:
            accounts = self.env["prepaid.account"].browse(
                list({meter.account_id.id for meter, *_rest in to_post})
            )
            ledger_lines = accounts._post_ledger_lines(
                [
                    meter._prepare_consumption_vals(readings, result, cache)
                    for meter, readings, result, _c in to_post
                ]
            )
        charge_vals = []
        for (meter, readings, result, core), line in zip(to_post, ledger_lines):
            charge_vals += meter._prepare_charge_vals(readings, result, core, line, cache)
        Charge = self.env["prepaid.charge"]
        Charge.check_access("create")
        insert_rows(Charge, charge_vals)
        self.env["prepaid.reading"].browse(
            [reading.id for _meter, readings, _result, _core in priced for reading in readings]
        )._mark_priced()
        self._write_rows(
            [
                (meter.id, readings[-1].id, json.dumps(result.state.to_dict()), None)
                for meter, readings, result, _core in priced
            ],
            ("priced_reading_id", "pricing_state", "pricing_error"),
            ("int", "jsonb", "varchar"),
        )

    def _product(self):
        site = self.site_id
        return site.water_product_id if self.utility == "water" else site.electricity_product_id

    def _prepare_consumption_vals(self, readings, result, cache=None):
        """The consumption ledger line of one pricing run (debit: negative amount)."""
        unit = "m³" if self.utility == "water" else "kWh"
        cache = {} if cache is None else cache
        if "description" not in cache:
            # translated once per run: a lookup per meter costs more than the line
            cache["description"] = self.env._("%(meter)s: %(quantity)s %(unit)s up to %(end)s")
        return {
            "account_id": self.account_id.id,
            "kind": "consumption",
            "amount": -result.total,  # Decimal: exact, no float round trip
            "date": readings[-1].timestamp,
            "description": cache["description"]
            % {
                "meter": self.serial,
                "quantity": result.quantity.normalize(),
                "unit": unit,
                "end": readings[-1].timestamp,
            },
        }

    def _prepare_charge_vals(self, readings, result, core, ledger_line, cache=None):
        """One charge per priced line, linked to the reading whose interval ends it."""
        cache = {} if cache is None else cache
        zone = self._site_zone(cache)
        # core[0] is the reading billing starts from; core[i] (i >= 1) is the i-th new one
        # unless the first new reading was itself the start
        chain = readings[-(len(core) - 1) :] if len(core) > 1 else readings
        ends = [reading.timestamp for reading in core[1:]]
        key = ("product", self.site_id, self.utility)
        if key not in cache:
            cache[key] = self._product().id
        # the same for every line of this meter: read once
        common = {
            "meter_id": self.id,
            "account_id": self.account_id.id,
            "ledger_line_id": ledger_line.id,
            "product_id": cache[key],
            "company_id": self.company_id.id,
        }
        vals_list = []
        for line in result.lines:
            position = min(bisect.bisect_left(ends, line.end), len(chain) - 1)
            vals_list.append(
                {
                    **common,
                    "reading_id": chain[position].id,
                    "date_start": to_utc(line.start, zone),
                    "date_end": to_utc(line.end, zone),
                    "band": line.band or False,
                    "tier": line.tier or 0,
                    "is_free": line.free,
                    "quantity": float(line.quantity),
                    "unit_price": float(line.unit_price),
                    "amount": float(line.amount),
                    "tariff_version_id": int(line.version),
                }
            )
        return vals_list


# Meters of a site share their settings and, within a cycle, their moments: the
# conversions below are cached (10,000 meters: 10,000 calls, a few distinct values).


@functools.lru_cache(maxsize=256)
def reading_config(minutes, register_limit, multiplier, utility, current, voltage, phases, flow):
    """The core's ReadingConfig for these meter settings (0: not given)."""
    return core_readings.ReadingConfig(
        expected_interval=datetime.timedelta(minutes=minutes),
        register_limit=register_decimal(register_limit) if register_limit else None,
        multiplier=register_decimal(multiplier),
        utility=utility,
        rated_current=register_decimal(current) if current else None,
        voltage=register_decimal(voltage) if voltage else None,
        phases=phases,
        max_flow=register_decimal(flow) if flow else None,
    )


@functools.lru_cache(maxsize=4096)
def to_utc(local, zone):
    """A site-local naive datetime as Odoo's naive UTC."""
    return pytz.timezone(zone).localize(local).astimezone(pytz.utc).replace(tzinfo=None)
