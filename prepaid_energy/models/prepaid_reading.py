import datetime
import functools
import json
from decimal import Decimal, InvalidOperation

import pytz
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from psycopg2.extras import Json as PsycopgJson

from prepaid_energy_core import readings as core_readings
from prepaid_energy_core.drivers.base import TOU_BANDS
from prepaid_energy_core.errors import ValidationError as CoreValidationError
from prepaid_energy_core.tariff import Reading as EngineReading

#: context key: the values were checked by _ingest, create them as they are
CHECKED = "prepaid_reading_checked"
#: register precision stored (4 decimals covers kWh and m³ meters)
REGISTER_DIGITS = (16, 4)
READING_SOURCES = [
    ("manual", "Manual"),
    ("import", "Import"),
    ("hardware", "Hardware"),
    ("replacement", "Meter replacement"),
]
#: fields that make a reading what it is: never rewritten after ingestion
RAW_FIELDS = {"meter_id", "timestamp", "slot", "total", "has_bands", *TOU_BANDS}


def register_decimal(value):
    """A stored register (float) as the Decimal it was read as."""
    return Decimal(str(value or 0.0))


@functools.lru_cache(maxsize=4096)
def to_local(utc_moment, zone):
    """Odoo's naive UTC datetime as a site-local naive datetime (cached: a cycle's
    readings share a few moments)."""
    return pytz.utc.localize(utc_moment).astimezone(pytz.timezone(zone)).replace(tzinfo=None)


def insert_rows(model, vals_list, chunk_size=5000):
    """Create ``model`` records from ``vals_list`` with one INSERT per chunk.

    For the append-only rows of a reading cycle (readings, charges, ledger
    lines): the ORM's per-record create costs more than validating and pricing
    them (bench/ingest.py). Give plain stored fields only, every required one
    (defaults are not applied), monetary amounts already rounded to their
    currency; stored related fields are filled here. As a
    create would, dependent fields are marked for recomputation and the
    one2many caches of the targets are refreshed. No access check: callers check.
    """
    if not vals_list:
        return model.browse()
    model.flush_model()
    fnames = sorted(set().union(*vals_list))
    for fname in fnames:
        field = model._fields[fname]
        if not field.column_type or field.compute or field.related:
            raise ValueError(f"insert_rows: {model._name}.{fname} is not a plain stored field")
    related = _related_column_values(model, vals_list, fnames)
    env, now = model.env, model.env.cr.now()
    columns = {
        fname: [convert(vals.get(fname)) for vals in vals_list]
        for fname, convert in (
            (fname, _column_converter(model, model._fields[fname])) for fname in fnames
        )
    }
    columns.update(related)
    columns.update(create_uid=[env.uid], create_date=[now], write_uid=[env.uid], write_date=[now])
    ids = []
    for start in range(0, len(vals_list), chunk_size):
        end = min(start + chunk_size, len(vals_list))
        ids += [row[0] for row in env.execute_query(_insert_query(model, columns, start, end))]
    records = model.browse(ids)
    _invalidate_inverse_one2many(model, [*fnames, *related])
    records.modified([*fnames, *related], create=True)
    for fname in related:  # just written: nothing to recompute
        model.env.remove_to_compute(model._fields[fname], records)
    return records


def _insert_query(model, columns, start, end):
    """INSERT of rows ``start:end`` of ``columns`` (``{fname: [value per row]}``; one
    value: the same for every row), one array parameter per column: a VALUES list
    of thousands of rows costs more to build and parse than the insert itself."""
    arrays = []
    for fname, values in columns.items():
        column_type = SQL(model._fields[fname].column_type[1])
        if len(values) == 1:
            arrays.append(SQL("array_fill(%s::%s, ARRAY[%s])", values[0], column_type, end - start))
        else:
            arrays.append(SQL("%s::%s[]", pg_array(values[start:end]), column_type))
    return SQL(
        "INSERT INTO %s (%s) SELECT * FROM unnest(%s) RETURNING id",
        SQL.identifier(model._table),
        SQL(", ").join(SQL.identifier(fname) for fname in columns),
        SQL(", ").join(arrays),
    )


def pg_array(values):
    """``values`` as the text of a PostgreSQL array, for a ``%s::type[]`` parameter.

    psycopg2 sends a list as ``ARRAY[...]`` with one constant per element: for
    thousands of rows that costs more to build and parse than the rows take to
    write. One string is parsed by the array type's input function instead.
    """
    values = list(values)
    kinds = set(map(type, values))
    if kinds <= _NUMBER_TYPES:  # no None, no quoting: joined at C speed
        return "{" + ",".join(map(str, values)) + "}"
    formats = _ARRAY_FORMATS.get
    return "{" + ",".join([formats(type(value), _array_element)(value) for value in values]) + "}"


def _quoted(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_element(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, PsycopgJson):
        value = value.adapted
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return _quoted(value)


_NUMBER_TYPES = frozenset({int, float, Decimal})
#: array element text per exact type (the usual ones); anything else: _array_element
_ARRAY_FORMATS = {
    type(None): lambda value: "NULL",
    bool: lambda value: "t" if value else "f",
    int: str,
    float: str,
    Decimal: str,
    str: _quoted,
    datetime.datetime: _quoted,
    datetime.date: _quoted,
}


def _column_converter(model, field):
    """A fast ``write value -> SQL parameter`` function for the usual column types."""
    if field.type == "many2one":
        return lambda value: (value.id if isinstance(value, models.BaseModel) else value) or None
    if field.type in ("float", "monetary"):
        return lambda value: value or 0  # numeric columns round to their own scale
    if field.type == "integer":
        return lambda value: int(value or 0)
    if field.type == "boolean":
        return bool
    if field.type in ("char", "selection", "datetime", "date"):
        return lambda value: value or None
    return lambda value: field.convert_to_column_insert(value, model)


def _related_column_values(model, vals_list, given):
    """``{fname: [column value per row]}`` of the stored related fields not given."""
    related = {}
    by_first = {}  # first field of the path -> [(related field, rest of the path)]
    for fname, field in model._fields.items():
        if field.store and field.related and fname not in given:
            first, *path = field.related.split(".")
            by_first.setdefault(first, []).append((field, path))
    for first, fields_paths in by_first.items():
        comodel = model.env[model._fields[first].comodel_name]
        keys = [vals.get(first) or None for vals in vals_list]
        target_ids = list(set(keys) - {None})
        # one hop to a plain stored column (all of them here): one query for all rows
        direct = [
            (field, path[0])
            for field, path in fields_paths
            if len(path) == 1 and _plain_column(comodel._fields[path[0]])
        ]
        if direct:
            comodel.flush_model([target for _field, target in direct])
            rows = model.env.execute_query(
                SQL(
                    "SELECT id, %s FROM %s WHERE id = ANY(%s::int4[])",
                    SQL(", ").join(SQL.identifier(target) for _field, target in direct),
                    SQL.identifier(comodel._table),
                    pg_array(target_ids),
                )
            )
            values = {row[0]: row[1:] for row in rows}
            for position, (field, _target) in enumerate(direct):
                related[field.name] = [
                    values[key][position] if key in values else None for key in keys
                ]
        for field, path in fields_paths:
            if field.name in related:
                continue
            value_of = {}
            for target in comodel.browse(target_ids):  # one prefetching recordset
                value = target.mapped(".".join(path))
                if isinstance(value, models.BaseModel):
                    value_of[target.id] = value.id or None
                else:
                    value_of[target.id] = value[0] if value else None
            related[field.name] = [value_of.get(key) for key in keys]
    return related


def _plain_column(field):
    """The column holds the field's value as is (not translated, not per company)."""
    return bool(field.column_type) and not field.translate and not field.company_dependent


def _invalidate_inverse_one2many(model, fnames):
    for fname in fnames:
        field = model._fields[fname]
        if field.type != "many2one":
            continue
        comodel = model.env[field.comodel_name]
        stale = [
            other.name
            for other in comodel._fields.values()
            if other.type == "one2many"
            and other.comodel_name == model._name
            and other.inverse_name == fname
        ]
        if stale:
            comodel.invalidate_model(stale)


class PrepaidReading(models.Model):
    _name = "prepaid.reading"
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
        help="The timestamp rounded down to the site's reading interval: one reading a slot.",
    )
    total = fields.Float(digits=REGISTER_DIGITS, required=True, help="Total register (raw).")
    sharp = fields.Float(digits=REGISTER_DIGITS)
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
        help="baseline, negative_delta, rollover, replacement, spike, gap, estimate",
    )
    is_estimate = fields.Boolean(string="Estimate")
    source = fields.Selection(READING_SOURCES, required=True, default="manual")
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
        "a negative delta or a spike, kept but not billed.",
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
    def _ingest(self, rows, strict=False, all_or_nothing=False):
        """Validate and store meter readings in one batch.

        ``rows``: dicts with ``meter_id`` (id or record) or ``serial``,
        ``timestamp`` (UTC datetime or ISO string), ``total`` and optionally
        ``sharp``, ``peak``, ``flat``, ``valley``, ``source``, ``is_estimate``,
        ``replacement_start`` (the new meter's register at installation).

        Idempotent on (meter, slot): a row equal to the stored reading of its
        slot is a duplicate; a different value in a taken slot is rejected.
        A reading going backwards (not a rollover) or a spike is stored but
        held for review, or rejected when ``strict``. With ``all_or_nothing``
        nothing is written if any row is rejected.

        Returns ``dict(created=recordset, duplicates=[(row, reading)],
        rejected=[(row, reason)])``.
        """
        outcomes = self._check_rows(rows, strict)
        rejected = [(row, reason) for row, kind, reason in outcomes if kind == "rejected"]
        created = self.browse()
        if not (all_or_nothing and rejected):
            created = self._create_outcomes(outcomes)
        duplicates = [(row, reading) for row, kind, reading in outcomes if kind == "duplicate"]
        return {"created": created, "duplicates": duplicates, "rejected": rejected}

    def _create_outcomes(self, outcomes):
        """Create the accepted rows; point in-batch duplicates at what was created."""
        new_indexes = [index for index, outcome in enumerate(outcomes) if outcome[1] == "new"]
        created = self._create_checked([outcomes[index][2] for index in new_indexes])
        created_by_index = dict(zip(new_indexes, created))
        for index, (row, kind, result) in enumerate(outcomes):
            if kind == "new":
                outcomes[index] = (row, kind, created_by_index[index])
            elif kind == "duplicate" and isinstance(result, int):
                outcomes[index] = (row, kind, created_by_index[result])
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
        by_meter = {}
        for index, values in parsed.items():
            if outcomes[index] is None:
                by_meter.setdefault(meters[index], []).append((values["timestamp"], index))
        taken = self._taken_slots(by_meter, parsed)
        for meter, entries in by_meter.items():
            entries.sort()
            self._check_meter_rows(
                meter,
                [(index, rows[index], parsed[index]) for _ts, index in entries],
                taken,
                strict,
                outcomes,
            )
        return outcomes

    def _check_meter_rows(self, meter, entries, taken, strict, outcomes):
        """Judge one meter's rows (time order) against its stored readings and each other."""
        config = meter._reading_config()
        previous = meter._core_last_reading()
        in_batch = {}  # slot -> (row index, parsed values) accepted in this batch
        for index, row, values in entries:
            slot = values["slot"]
            stored = taken.get((meter.id, slot))
            earlier = in_batch.get(slot)
            if stored or earlier:
                outcomes[index] = self._judge_taken_slot(row, values, stored, earlier)
                continue
            if previous is not None and values["timestamp"] <= previous.timestamp:
                outcomes[index] = (row, "rejected", self._too_old_reason(meter, values, previous))
                continue
            reading = core_readings.Reading(
                values["timestamp"],
                values["total"],
                replacement_start=values["replacement_start"],
                estimate=values["is_estimate"],
            )
            try:
                checked = core_readings.validate(previous, [reading], config)[0]
            except CoreValidationError as error:
                outcomes[index] = (row, "rejected", f"{meter.serial}: {error}")
                continue
            hold = self._review_reason(meter, checked, previous, config)
            if hold and strict:
                outcomes[index] = (row, "rejected", hold)
                continue
            outcomes[index] = (row, "new", meter._prepare_reading_vals(values, checked, hold))
            in_batch[slot] = (index, values)
            if not hold:
                previous = reading

    def _judge_taken_slot(self, row, values, stored, earlier):
        """A row for a slot already taken: a duplicate when equal, else rejected."""
        if stored:
            reading_id, total, has_bands, *bands = stored
            same_total = register_decimal(total) == values["total"]
            stored_bands = dict(zip(TOU_BANDS, bands)) if has_bands else {}
            same_bands = all(
                band in stored_bands and register_decimal(stored_bands[band]) == value
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
                    stored=register_decimal(total),
                    total=values["total"],
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
                first=first["total"],
                total=values["total"],
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

    def _review_reason(self, meter, checked, previous, config):
        """Why a checked reading must not be billed without a person's look, or None."""
        if checked.negative_delta:
            return self.env._(
                "%(serial)s: register went back from %(old)s to %(new)s at %(ts)s (not a rollover)",
                serial=meter.serial,
                old=previous.value if previous else "",
                new=checked.value,
                ts=checked.timestamp,
            )
        if checked.spike:
            return self.env._(
                "%(serial)s: consumption %(delta)s at %(ts)s is above the physical maximum "
                "%(maximum)s for the interval",
                serial=meter.serial,
                delta=checked.delta,
                ts=checked.timestamp,
                maximum=config.max_delta(checked.interval).quantize(Decimal("0.0001")),
            )
        return None

    @api.model
    def _parse_row(self, row):
        """Normalise one row's values; raise UserError naming what is wrong."""
        if not isinstance(row, dict):
            raise UserError(self.env._("a reading must be a dict, not %s", type(row).__name__))
        timestamp = self._parse_timestamp(row.get("timestamp"))
        values = {
            "timestamp": timestamp,
            "total": self._parse_register(row.get("total"), "total", required=True),
            "source": row.get("source") or "manual",
            "is_estimate": bool(row.get("is_estimate")),
        }
        if values["source"] not in dict(READING_SOURCES):
            raise UserError(self.env._("unknown source %r", values["source"]))
        bands = {band: self._parse_register(row.get(band), band) for band in TOU_BANDS}
        values["bands"] = {band: value for band, value in bands.items() if value is not None}
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
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise UserError(
                self.env._("%(what)s is not a number: %(value)r", what=what, value=value)
            ) from None
        if not number.is_finite() or number < 0:
            raise UserError(
                self.env._("%(what)s must be a number >= 0, got %(value)s", what=what, value=value)
            )
        # what the database keeps: compare duplicates and compute deltas on that
        return number.quantize(Decimal(1).scaleb(-REGISTER_DIGITS[1]))

    def _resolve_meters(self, rows, parsed, outcomes):
        """``{row index: meter}`` for the parsed rows; unknown meters are rejected."""
        Meter = self.env["prepaid.meter"]
        ids = {self._row_meter_id(rows[index]) for index in parsed} - {None}
        serials = {rows[index].get("serial") for index in parsed} - {None, ""}
        by_id, by_serial = {}, {}
        if ids:
            by_id = {meter.id: meter for meter in Meter.search([("id", "in", list(ids))])}
        if serials:
            for meter in Meter.search([("serial", "in", list(serials))]):
                by_serial[meter.serial] = by_serial.get(meter.serial, Meter) | meter
        meters = {}
        for index in list(parsed):
            row = rows[index]
            meter_id = self._row_meter_id(row)
            serial = row.get("serial")
            if meter_id:
                meter = by_id.get(meter_id)
                problem = None if meter else self.env._("no meter with id %s", meter_id)
            else:
                meter = by_serial.get(serial) if serial else None
                if not serial:
                    problem = self.env._("no meter given (meter_id or serial)")
                elif not meter:
                    problem = self.env._("unknown meter serial %s", serial)
                elif len(meter) > 1:
                    problem = self.env._(
                        "serial %s is used in several companies: give the meter_id", serial
                    )
                else:
                    problem = None
            if problem:
                outcomes[index] = (row, "rejected", problem)
                del parsed[index]
            else:
                meters[index] = meter
        return meters

    @staticmethod
    def _row_meter_id(row):
        meter = row.get("meter_id")
        return meter.id if isinstance(meter, models.BaseModel) else (meter or None)

    def _taken_slots(self, by_meter, parsed):
        """``{(meter id, slot): (id, total, bands...)}`` of the stored readings these rows hit."""
        intervals = {}  # per site: its meters share it
        for meter, entries in by_meter.items():
            site = meter.site_id
            if site not in intervals:
                intervals[site] = meter._slot_interval()
            interval = intervals[site]
            for _ts, index in entries:
                parsed[index]["slot"] = core_readings.time_slot(
                    parsed[index]["timestamp"], interval
                )
        if not by_meter:
            return {}
        self.env["prepaid.reading"].flush_model()
        meter_ids = [meter.id for meter in by_meter]
        slots = list({values["slot"] for values in parsed.values() if "slot" in values})
        rows = self.env.execute_query(
            SQL(
                "SELECT meter_id, slot, id, total, has_bands, sharp, peak, flat, valley"
                " FROM prepaid_reading WHERE meter_id = ANY(%s) AND slot = ANY(%s)",
                meter_ids,
                slots,
            )
        )
        return {(row[0], row[1]): row[2:] for row in rows}

    @api.model_create_multi
    def create(self, vals_list):
        """Manual entry goes through the same validation as every other source."""
        if self.env.context.get(CHECKED):
            return super().create(vals_list)
        rows = [dict(vals, source=vals.get("source") or "manual") for vals in vals_list]
        outcomes = self._check_rows(rows, strict=True)
        problems = [reason for _row, kind, reason in outcomes if kind == "rejected"]
        if problems:
            raise ValidationError("\n".join(problems))
        self._create_outcomes(outcomes)
        return self.browse([result.id for _row, _kind, result in outcomes])

    def _create_checked(self, vals_list):
        """Create rows _check_rows accepted and move each meter's last reading forward."""
        if not vals_list:
            return self.browse()
        self.check_access("create")
        readings = insert_rows(self, vals_list)
        self.env["prepaid.meter"]._move_last_reading(readings, vals_list)
        return readings

    def _mark_priced(self):
        """Set these readings priced in one UPDATE (a write flushes them 100 per query)."""
        if not self:
            return
        self.check_access("write")
        self.flush_recordset(["state"])
        self.env.cr.execute(
            SQL(
                "UPDATE prepaid_reading SET state = 'priced', write_uid = %s, write_date = %s"
                " WHERE id = ANY(%s::int4[])",
                self.env.uid,
                self.env.cr.now(),
                pg_array(self.ids),
            )
        )
        self.invalidate_recordset(["state", "write_uid", "write_date"], flush=False)
        self.modified(["state"])

    def write(self, vals):
        if RAW_FIELDS.intersection(vals) and not self.env.context.get(CHECKED):
            raise UserError(
                self.env._(
                    "A reading is raw meter data and cannot be changed: enter a new reading "
                    "for a later time instead."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_held(self):
        # A billed or chained reading is the base of its successor's delta.
        if self.filtered(lambda reading: reading.state != "rejected"):
            raise UserError(self.env._("Only readings held for review can be deleted."))

    # ------------------------------------------------------------------ pricing view

    def _to_core_reading(self, zone, cumulative, use_bands):
        """The engine's Reading at site-local time with a continuous total ``cumulative``."""
        local = to_local(self.timestamp, zone)
        bands = None
        if use_bands:
            bands = {band: register_decimal(self[band]) for band in TOU_BANDS}
        return EngineReading(local, cumulative, bands)
