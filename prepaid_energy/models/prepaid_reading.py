import datetime
import functools
from collections import namedtuple
from decimal import Decimal, InvalidOperation

import pytz
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from prepaid_energy_core import ingestion as core_ingestion
from prepaid_energy_core import readings as core_readings
from prepaid_energy_core.errors import ValidationError as CoreValidationError
from prepaid_energy_core.money import plain
from prepaid_energy_core.vocabulary import (
    READING_SOURCE_LABELS,
    READING_SOURCES,
    SOURCE_MANUAL,
    TOTAL,
    TOU_BANDS,
)

from ..tools import bulk

#: register precision stored (4 decimals covers kWh and m³ meters)
REGISTER_DIGITS = (16, 4)
_REGISTER_QUANTUM = Decimal(1).scaleb(-REGISTER_DIGITS[1])
#: fields that make a reading what it is: never rewritten after ingestion
RAW_FIELDS = frozenset({"meter_id", "timestamp", TOTAL, *TOU_BANDS, "source", "is_estimate"})
#: fields ingestion and pricing derive: only they set them, never a caller
DERIVED_FIELDS = frozenset(
    {"slot", "has_bands", "raw_delta", "delta", "flags", "state", "reject_reason", "account_id"}
)
#: core reading flag -> the tag stored on prepaid.reading.flags
FLAG_TAGS = {"meter_replacement": "replacement"}
#: what ingestion needs of a meter, read in one query for a batch (see _meter_facts)
MeterFacts = namedtuple(
    "MeterFacts",
    "id serial account_id site_id company_id zone interval config last_date last_total last_bands",
)


def register_decimal(value):
    """A stored register (float) as the Decimal it was read as."""
    return Decimal(str(value or 0.0))


def stored_bands(has_bands, values):
    """Stored band registers (``values`` in ``TOU_BANDS`` order) as the core's dict, or None."""
    if not has_bands:
        return None
    return {band: register_decimal(value) for band, value in zip(TOU_BANDS, values)}


@functools.lru_cache(maxsize=256)
def reading_config(minutes, register_limit, multiplier, utility, current, voltage, phases, flow):
    """The core's ReadingConfig for a meter's settings (0 or None: not given; current and
    voltage count for electricity when both are given, flow for water). Meters of a
    site share their settings: cached."""
    electric = utility == "electricity"
    with_power = electric and current and voltage
    return core_readings.ReadingConfig(
        expected_interval=datetime.timedelta(minutes=minutes or 15),
        register_limit=register_decimal(register_limit) if register_limit else None,
        multiplier=register_decimal(multiplier),
        utility=utility,
        rated_current=register_decimal(current) if with_power else None,
        voltage=register_decimal(voltage) if with_power else None,
        phases=int(phases or 1),
        max_flow=register_decimal(flow) if flow and not electric else None,
    )


class PrepaidReading(models.Model):
    _name = "prepaid.reading"
    _inherit = ["prepaid.bulk.mixin"]
    _description = "Meter reading (cumulative registers)"
    _order = "timestamp desc, id desc"
    _rec_name = "timestamp"

    meter_id = fields.Many2one("prepaid.meter", required=True, index=True, ondelete="restrict")
    company_id = fields.Many2one(
        related="meter_id.company_id", store=True, index=True, precompute=True
    )
    site_id = fields.Many2one(related="meter_id.site_id", store=True, precompute=True)
    account_id = fields.Many2one(
        "prepaid.account", readonly=True, index="btree_not_null", help="Wallet when read."
    )
    utility = fields.Selection(related="meter_id.utility")
    timestamp = fields.Datetime(required=True, default=fields.Datetime.now)
    slot = fields.Datetime(
        readonly=True,
        index=True,
        help="The timestamp rounded down to the site's reading interval, on the site's clock: "
        "one reading a slot.",
    )
    total = fields.Float(digits=REGISTER_DIGITS, required=True, help="Total register (raw).")
    sharp = fields.Float(
        digits=REGISTER_DIGITS,
        help="Band registers: give all four, or leave all four at 0 when only the total "
        "was read (its consumption is then split by the clock).",
    )
    peak = fields.Float(digits=REGISTER_DIGITS)
    flat = fields.Float(digits=REGISTER_DIGITS)
    valley = fields.Float(digits=REGISTER_DIGITS)
    has_bands = fields.Boolean(readonly=True, help="The meter gave its band registers.")
    raw_delta = fields.Float(
        digits=REGISTER_DIGITS,
        readonly=True,
        help="Register advance since the previous accepted reading (rollover corrected).",
    )
    delta = fields.Float(
        string="Consumption",
        digits=REGISTER_DIGITS,
        readonly=True,
        aggregator="sum",
        help="Register advance times the meter's multiplier.",
    )
    flags = fields.Char(
        readonly=True,
        help="baseline, negative_delta, rollover, replacement, spike, gap, estimate, band_mismatch",
    )
    is_estimate = fields.Boolean(string="Estimate")
    source = fields.Selection(list(READING_SOURCE_LABELS), required=True, default=SOURCE_MANUAL)
    state = fields.Selection(
        [
            ("new", "New"),
            ("priced", "Priced"),
            ("unbilled", "Not billed"),
            ("rejected", "Held for review"),
        ],
        required=True,
        default="new",
        index=True,
        readonly=True,
        help="Not billed: read while the meter had no open account. Held for review: "
        "a negative delta, a spike or band registers that do not add up, kept but not billed.",
    )
    reject_reason = fields.Char(readonly=True)
    charge_ids = fields.One2many("prepaid.charge", "reading_id", string="Charges")

    _sql_constraints = [
        (
            "meter_slot_unique",
            "UNIQUE(meter_id, slot)",
            "A meter has one reading per slot.",
        ),
    ]

    @api.depends("meter_id", "timestamp")
    def _compute_display_name(self):
        for reading in self:
            reading.display_name = f"{reading.meter_id.serial or ''} @ {reading.timestamp or ''}"

    # ------------------------------------------------------------------ ingestion

    @api.model
    def _ingest(self, rows, strict=False, all_or_nothing=False, price=False):
        """Validate and store meter readings in one batch.

        ``rows``: the core's reading rows (``prepaid_energy_core.ingestion``):
        dicts with ``meter_id`` (id or record) or ``serial``, ``timestamp``
        (UTC datetime or ISO string), ``total``, every band register or none
        (``sharp``, ``peak``, ``flat``, ``valley``), and optionally ``source``,
        ``is_estimate``, ``replacement_start`` (the new meter's register at
        installation).

        Idempotent on (meter, slot): a row equal to the stored reading of its
        slot is a duplicate; a different value in a taken slot is rejected.
        A reading going backwards (not a rollover), a spike or band registers
        that do not add up to the total are stored but held for review, or
        rejected when ``strict``. With ``all_or_nothing`` nothing is written if
        any row is rejected. With ``price`` the new readings of meters on an
        account are priced and posted at once, and stored priced (a meter
        reading cycle: each row is written once); the user must be allowed to
        change those meters.

        Returns ``dict(created=recordset, duplicates=[(row, reading)],
        rejected=[(row, reason)])``.
        """
        with bulk.gc_paused():
            outcomes = self._check_rows(rows, strict)
            rejected = [(row, reason) for row, kind, reason in outcomes if kind == "rejected"]
            created = self.browse()
            if not (all_or_nothing and rejected):
                created = self._create_outcomes(outcomes, price=price)
        duplicates = [(row, reading) for row, kind, reading in outcomes if kind == "duplicate"]
        return {"created": created, "duplicates": duplicates, "rejected": rejected}

    @api.model
    def _ingest_manual(self, meter, total):
        """Store the ``total`` register a person just read off ``meter`` (now), or give back
        the stored reading of this slot when it is the same; refuse anything held."""
        result = self._ingest(
            [
                {
                    "meter_id": meter.id,
                    "timestamp": fields.Datetime.now(),
                    TOTAL: total,
                    "source": SOURCE_MANUAL,
                }
            ],
            strict=True,
        )
        if result["rejected"]:
            raise UserError(result["rejected"][0][1])
        return result["created"] or result["duplicates"][0][1]

    def _create_outcomes(self, outcomes, create=None, price=False):
        """Create the accepted rows (see ``_create_checked``); each "new" outcome gets its
        reading's id, and an in-batch duplicate the reading created for its slot."""
        new_indexes = [index for index, outcome in enumerate(outcomes) if outcome[1] == "new"]
        vals_list = [outcomes[index][2] for index in new_indexes]
        created = self._create_checked(vals_list, create, price)
        created_by_index = dict(zip(new_indexes, created.ids))
        for index, (row, kind, result) in enumerate(outcomes):
            if kind == "new":
                outcomes[index] = (row, kind, created_by_index[index])
            elif kind == "duplicate" and isinstance(result, int):
                outcomes[index] = (row, kind, self.browse(created_by_index[result]))
        return created

    def _check_rows(self, rows, strict):
        """``[(row, "new", vals) | (row, "duplicate", reading) | (row, "rejected", reason)]``."""
        outcomes = [None] * len(rows)
        parsed = {}
        for index, row in enumerate(rows):
            try:
                parsed[index] = self._parse_row(row)
            except (CoreValidationError, UserError) as error:
                outcomes[index] = (row, "rejected", str(error))
        meters = self._resolve_meters(rows, parsed, outcomes)
        facts = self._meter_facts(set(meters.values()))
        by_meter = {}
        for index, values in parsed.items():
            if outcomes[index] is None:
                by_meter.setdefault(meters[index], []).append((values["timestamp"], index))
        taken = self._taken_slots(by_meter, parsed, facts)
        now = fields.Datetime.now()
        for meter_id, entries in by_meter.items():
            entries.sort()
            self._check_meter_rows(
                facts[meter_id],
                [(index, rows[index], parsed[index]) for _ts, index in entries],
                taken,
                strict,
                outcomes,
                now,
            )
        return outcomes

    def _check_meter_rows(self, meter, entries, taken, strict, outcomes, now):
        """Judge one meter's rows (time order) against its stored readings and each other.

        ``meter``: its ``MeterFacts``.
        """
        config = meter.config
        previous = None
        if meter.last_date:
            previous = core_readings.Reading(
                meter.last_date, register_decimal(meter.last_total), bands=meter.last_bands
            )
        in_batch = {}  # slot -> (row index, parsed values) accepted in this batch
        for index, row, values in entries:
            slot = values["slot"]
            stored = taken.get((meter.id, slot))
            earlier = in_batch.get(slot)
            if stored or earlier:
                outcomes[index] = self._judge_taken_slot(row, values, stored, earlier)
                continue
            if values["timestamp"] > now + core_readings.CLOCK_TOLERANCE:
                outcomes[index] = (row, "rejected", self._future_reason(meter, values, now))
                continue
            if previous is not None and values["timestamp"] <= previous.timestamp:
                outcomes[index] = (row, "rejected", self._too_old_reason(meter, values, previous))
                continue
            try:
                reading = core_readings.Reading(
                    values["timestamp"],
                    values["total"],
                    replacement_start=values["replacement_start"],
                    estimate=values["is_estimate"],
                    bands=values["bands"] or None,
                )
                checked = core_readings.validate(previous, [reading], config)[0]
            except CoreValidationError as error:
                outcomes[index] = (row, "rejected", f"{meter.serial}: {error}")
                continue
            hold = self._review_reason(meter, checked, previous, config)
            if hold and strict:
                outcomes[index] = (row, "rejected", hold)
                continue
            outcomes[index] = (row, "new", self._prepare_reading_vals(meter, values, checked, hold))
            in_batch[slot] = (index, values)
            if not hold:
                previous = reading

    def _prepare_reading_vals(self, meter, values, checked, hold_reason):
        """Values of a reading the core checked (``hold_reason``: why it is held)."""
        bands = values["bands"]
        if hold_reason:
            state = "rejected"
        else:
            state = "new" if meter.account_id else "unbilled"
        vals = {
            "meter_id": meter.id,
            "account_id": meter.account_id,
            "timestamp": values["timestamp"],
            "slot": values["slot"],
            TOTAL: values["total"],
            "has_bands": bool(bands),
            "raw_delta": checked.raw_delta,
            "delta": checked.delta,
            "flags": ",".join(FLAG_TAGS.get(flag, flag) for flag in checked.flags) or None,
            "is_estimate": values["is_estimate"],
            "source": values["source"],
            "state": state,
            "reject_reason": hold_reason or None,
        }
        for band in TOU_BANDS:
            vals[band] = bands.get(band, 0)
        return vals

    def _judge_taken_slot(self, row, values, stored, earlier):
        """A row for a slot already taken: a duplicate when equal, else rejected."""
        if stored:
            reading_id, total, has_bands, *bands = stored
            same_total = register_decimal(total) == values["total"]
            registers = dict(zip(TOU_BANDS, bands)) if has_bands else {}
            same_bands = all(
                band in registers and register_decimal(registers[band]) == value
                for band, value in values["bands"].items()
            )
            if same_total and same_bands:
                return (row, "duplicate", self.browse(reading_id))
            return (
                row,
                "rejected",
                self.env._(
                    "slot %(slot)s already holds a different reading (total %(stored)s, "
                    "this row %(total)s)",
                    slot=values["slot"],
                    stored=plain(register_decimal(total)),
                    total=plain(values["total"]),
                ),
            )
        first_index, first = earlier
        if first["total"] == values["total"] and first["bands"] == values["bands"]:
            return (row, "duplicate", first_index)
        return (
            row,
            "rejected",
            self.env._(
                "slot %(slot)s is given twice with different values (total %(first)s and "
                "%(total)s)",
                slot=values["slot"],
                first=plain(first["total"]),
                total=plain(values["total"]),
            ),
        )

    def _too_old_reason(self, meter, values, previous):
        return self.env._(
            "%(serial)s: reading at %(ts)s is not after the meter's last reading at "
            "%(last)s (readings are stored in time order)",
            serial=meter.serial,
            ts=values["timestamp"],
            last=previous.timestamp,
        )

    def _future_reason(self, meter, values, now):
        return self.env._(
            "%(serial)s: reading at %(ts)s (UTC) is in the future: more than %(minutes)s "
            "minutes after the server's clock (%(now)s UTC). Check the meter's clock.",
            serial=meter.serial,
            ts=values["timestamp"],
            minutes=int(core_readings.CLOCK_TOLERANCE.total_seconds() // 60),
            now=now,
        )

    def _review_reason(self, meter, checked, previous, config):
        """Why a checked reading must not be billed without a person's look, or None."""
        if not checked.needs_review:
            return None
        serial, when = meter.serial, checked.timestamp
        if checked.negative_delta:
            return self.env._(
                "%(serial)s: register went back from %(old)s to %(new)s at %(ts)s (not a rollover)",
                serial=serial,
                old=plain(previous.total) if previous else "",
                new=plain(checked.total),
                ts=when,
            )
        maximum = config.max_delta(checked.interval) if checked.interval else None
        if checked.spike and maximum is not None and checked.delta > maximum:
            return self.env._(
                "%(serial)s: consumption %(delta)s at %(ts)s is above the physical maximum "
                "%(maximum)s for the interval",
                serial=serial,
                delta=plain(checked.delta),
                ts=when,
                maximum=plain(maximum.quantize(_REGISTER_QUANTUM)),
            )
        deltas = checked.band_deltas or {}
        went_back = [band for band, delta in deltas.items() if delta < 0]
        if went_back:
            band = went_back[0]
            return self.env._(
                "%(serial)s: band register %(band)s went back from %(old)s to %(new)s at %(ts)s",
                serial=serial,
                band=band,
                old=plain(previous.bands[band]),
                new=plain(checked.bands[band]),
                ts=when,
            )
        if checked.spike:
            band, delta = max(deltas.items(), key=lambda item: item[1])
            return self.env._(
                "%(serial)s: band %(band)s advanced %(delta)s at %(ts)s, above the physical "
                "maximum %(maximum)s for the interval",
                serial=serial,
                band=band,
                delta=plain(delta * checked.multiplier),
                ts=when,
                maximum=plain(maximum.quantize(_REGISTER_QUANTUM)),
            )
        return self.env._(
            "%(serial)s: the band registers advanced %(bands)s in all at %(ts)s but the total "
            "%(total)s: they must add up (within %(tolerance)s)",
            serial=serial,
            bands=plain(sum(deltas.values())),
            ts=when,
            total=plain(checked.raw_delta),
            tolerance=plain(core_readings.band_tolerance(checked.raw_delta, config)),
        )

    @api.model
    def _parse_row(self, row):
        """Normalise one row's values; raise UserError naming what is wrong."""
        if not isinstance(row, dict):
            raise UserError(self.env._("a reading must be a dict, not %s", type(row).__name__))
        timestamp = self._parse_timestamp(row.get("timestamp"))
        values = {
            "timestamp": timestamp,
            "total": self._parse_register(row.get(TOTAL), TOTAL, required=True),
            "source": row.get("source") or SOURCE_MANUAL,
            "is_estimate": bool(row.get("is_estimate")),
        }
        if values["source"] not in READING_SOURCES:
            raise UserError(self.env._("unknown source %r", values["source"]))
        bands = {band: self._parse_register(row.get(band), band) for band in TOU_BANDS}
        values["bands"] = {band: value for band, value in bands.items() if value is not None}
        if values["bands"] and len(values["bands"]) != len(TOU_BANDS):
            raise UserError(
                self.env._(
                    "give every band register (%(bands)s) or none; missing %(missing)s",
                    bands=", ".join(TOU_BANDS),
                    missing=", ".join(band for band in TOU_BANDS if bands[band] is None),
                )
            )
        start = row.get("replacement_start")
        values["replacement_start"] = (
            None if start in (None, "") else self._parse_register(start, "replacement start")
        )
        return values

    @api.model
    def _parse_timestamp(self, value):
        if isinstance(value, str) and value.strip():
            try:
                value = datetime.datetime.fromisoformat(value.strip())
            except ValueError:
                raise UserError(
                    self.env._("timestamp %r is not a date and time (YYYY-MM-DD HH:MM:SS)", value)
                ) from None
        if not isinstance(value, datetime.datetime):
            raise UserError(self.env._("timestamp missing or not a date and time: %r", value))
        if value.tzinfo is not None:
            value = value.astimezone(pytz.utc).replace(tzinfo=None)
        return value.replace(microsecond=0)

    @api.model
    def _parse_register(self, value, what, required=False):
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise UserError(self.env._("%s register missing", what))
            return None
        if isinstance(value, bool):
            raise UserError(
                self.env._("%(what)s is not a number: %(value)r", what=what, value=value)
            )
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except InvalidOperation:
            raise UserError(
                self.env._("%(what)s is not a number: %(value)r", what=what, value=value)
            ) from None
        if not number.is_finite() or number < 0:
            raise UserError(
                self.env._("%(what)s must be a number >= 0, got %(value)s", what=what, value=value)
            )
        # what the database keeps: compare duplicates and compute deltas on that
        return number.quantize(_REGISTER_QUANTUM)

    def _resolve_meters(self, rows, parsed, outcomes):
        """``{row index: meter id}`` for the parsed rows; unknown meters are rejected.

        Meters are searched: a row can only name a meter the user may read.
        """
        Meter = self.env["prepaid.meter"]
        ids = {self._row_meter_id(rows[index]) for index in parsed} - {None}
        serials = {rows[index].get("serial") for index in parsed} - {None, ""}
        known_ids, by_serial = set(), {}
        if ids:
            known_ids = set(Meter._search([("id", "in", list(ids))]))
        if serials:
            for meter in Meter.search_fetch([("serial", "in", list(serials))], ["serial"]):
                by_serial.setdefault(meter.serial, []).append(meter.id)
        meters = {}
        for index in list(parsed):
            row = rows[index]
            meter_id = self._row_meter_id(row)
            serial = row.get("serial")
            if meter_id:
                problem = (
                    None if meter_id in known_ids else self.env._("no meter with id %s", meter_id)
                )
            else:
                found = by_serial.get(serial) if serial else None
                if not serial:
                    problem = self.env._("no meter given (meter_id or serial)")
                elif not found:
                    problem = self.env._("unknown meter serial %s", serial)
                elif len(found) > 1:
                    problem = self.env._(
                        "serial %s is used in several companies: give the meter_id", serial
                    )
                else:
                    problem, meter_id = None, found[0]
            if problem:
                outcomes[index] = (row, "rejected", problem)
                del parsed[index]
            else:
                meters[index] = meter_id
        return meters

    @staticmethod
    def _row_meter_id(row):
        meter = row.get("meter_id")
        return meter.id if isinstance(meter, models.BaseModel) else (meter or None)

    def _meter_facts(self, meter_ids):
        """``{meter id: MeterFacts}``: what judging the meters' readings needs, one query.

        The meters were searched by ``_resolve_meters`` (the user may read them).
        """
        if not meter_ids:
            return {}
        Meter = self.env["prepaid.meter"]
        Meter.flush_model()
        self.env["prepaid.location"].flush_model(["reading_interval"])
        self.flush_model([*TOU_BANDS, "has_bands"])
        rows = self.env.execute_query(
            SQL(
                """SELECT m.id, m.serial, m.account_id, m.site_id, m.company_id,
                          COALESCE(s.reading_interval, 0), m.register_limit, m.multiplier,
                          m.utility, m.rated_current, m.voltage, m.phases, m.max_flow,
                          m.last_reading_date, m.last_total,
                          r.has_bands, r.sharp, r.peak, r.flat, r.valley
                     FROM prepaid_meter m
                LEFT JOIN prepaid_location s ON s.id = m.site_id
                LEFT JOIN prepaid_reading r ON r.id = m.last_reading_id
                    WHERE m.id = ANY(%s)""",
                list(meter_ids),
            )
        )
        zones = {}
        facts = {}
        for row in rows:
            meter_id, serial, account_id, site_id, company_id, minutes = row[:6]
            limit, multiplier, utility, current, voltage, phases, flow = row[6:13]
            last_date, last_total, has_bands, *bands = row[13:]
            if (site_id, company_id) not in zones:
                zones[site_id, company_id] = Meter.browse(meter_id)._site_zone()
            config = reading_config(
                minutes, limit, multiplier, utility, current, voltage, phases, flow
            )
            facts[meter_id] = MeterFacts(
                meter_id,
                serial,
                account_id,
                site_id,
                company_id,
                zones[site_id, company_id],
                datetime.timedelta(minutes=minutes or 15),
                config,
                last_date,
                last_total,
                stored_bands(has_bands, bands),
            )
        return facts

    def _taken_slots(self, by_meter, parsed, facts):
        """``{(meter id, slot): (id, total, has_bands, bands...)}`` of the stored readings
        these rows hit; sets each parsed row's ``slot`` (the site's clock)."""
        for meter_id, entries in by_meter.items():
            meter = facts[meter_id]
            for _ts, index in entries:
                parsed[index]["slot"] = core_readings.time_slot(
                    parsed[index]["timestamp"], meter.interval, meter.zone
                )
        if not by_meter:
            return {}
        self.flush_model(["meter_id", "slot", TOTAL, "has_bands", *TOU_BANDS])
        slots = list({values["slot"] for values in parsed.values() if "slot" in values})
        rows = self.env.execute_query(
            SQL(
                "SELECT meter_id, slot, id, total, has_bands, sharp, peak, flat, valley"
                " FROM prepaid_reading WHERE meter_id = ANY(%s) AND slot = ANY(%s)",
                list(by_meter),
                slots,
            )
        )
        return {(row[0], row[1]): row[2:] for row in rows}

    @api.model_create_multi
    def create(self, vals_list):
        """Manual entry (the form, an import through the ORM, an RPC call) goes through the
        same validation as every other source: only the raw values are taken, every derived
        value is computed."""
        rows = [core_ingestion.row_from_entry(vals) for vals in vals_list]
        outcomes = self._check_rows(rows, strict=True)
        problems = [reason for _row, kind, reason in outcomes if kind == "rejected"]
        if problems:
            raise ValidationError("\n".join(problems))
        # a person's few rows: the ORM's create, with the values ingestion prepared
        self._create_outcomes(outcomes, create=super().create)
        return self.browse(
            [result if kind == "new" else result.id for _row, kind, result in outcomes]
        )

    def _create_checked(self, vals_list, create=None, price=False):
        """Create rows _check_rows accepted (with ``create``, ``_bulk_create`` by default)
        and move each meter's last reading forward; with ``price``, priced at once."""
        if not vals_list:
            return self.browse()
        if price:
            return self._create_and_price(vals_list)
        readings = (create or self._bulk_create)(vals_list)
        self.env["prepaid.meter"]._move_last_reading(readings, vals_list)
        return readings

    def _create_and_price(self, vals_list):
        """Price the billable rows of ``vals_list`` before storing them, then store them
        priced with their charges and ledger lines, and move the meters on, writing
        each reading and each meter once (``_ingest(price=True)``)."""
        Meter = self.env["prepaid.meter"]
        incoming = {}
        for index, vals in enumerate(vals_list):
            if vals["state"] == "new":
                incoming.setdefault(vals["meter_id"], []).append(
                    core_ingestion.StoredReading(
                        ("new", index),
                        vals["timestamp"],
                        # as pricing reads it back from the database: the same engine state
                        register_decimal(float(vals["raw_delta"].quantize(_REGISTER_QUANTUM))),
                        stored_bands(vals["has_bands"], [vals[band] for band in TOU_BANDS]),
                        frozenset(vals["flags"].split(",")) if vals["flags"] else frozenset(),
                    )
                )
        for readings in incoming.values():
            readings.sort(key=lambda reading: reading.timestamp)
        meters = Meter.browse(list(incoming))
        meters.check_access("write")  # pricing changes what the meters owe
        meters_sudo = meters.sudo()
        priced = meters_sudo._price_new_readings(incoming)[0] if incoming else []
        priced_meters = {meter.id for meter, _readings, _pricing in priced}
        for vals in vals_list:
            if vals["state"] == "new" and vals["meter_id"] in priced_meters:
                vals["state"] = "priced"
        readings = self._bulk_create(vals_list)
        reading_ids = {("new", index): reading_id for index, reading_id in enumerate(readings.ids)}
        latest = Meter._latest_readings(readings.ids, vals_list)
        meters_sudo._book_pricing(
            priced, reading_ids, {meter_id: latest[meter_id] for meter_id in priced_meters}
        )
        Meter._move_last_reading(
            readings,
            vals_list,
            {meter_id: last for meter_id, last in latest.items() if meter_id not in priced_meters},
        )
        return readings

    def _mark_priced(self):
        """Set these readings priced (pricing's own write: nobody else sets a state)."""
        self._bulk_write_same({"state": "priced"})

    def _mark_unbilled(self):
        """Set these readings not billed: read before the meter's account."""
        self._bulk_write_same({"state": "unbilled"})

    def write(self, vals):
        if RAW_FIELDS.intersection(vals):
            raise UserError(
                self.env._(
                    "A reading is raw meter data and cannot be changed: enter a new reading "
                    "for a later time instead."
                )
            )
        derived = DERIVED_FIELDS.intersection(vals)
        if derived:
            raise UserError(
                self.env._(
                    "%(fields)s of a reading are set by its validation and pricing, never by hand.",
                    fields=", ".join(sorted(derived)),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_held(self):
        # A billed or chained reading is the base of its successor's delta.
        if self.filtered(lambda reading: reading.state != "rejected"):
            raise UserError(self.env._("Only readings held for review can be deleted."))

    # ------------------------------------------------------------------ actions

    def action_price_now(self):
        """Price the new readings of these readings' meters at once (officers)."""
        return self.meter_id.action_price_now()
