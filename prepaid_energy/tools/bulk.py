"""Bulk create and write for the rows of a reading cycle (readings, charges, ledger lines).

A cycle writes tens of thousands of rows; the ORM's create and write cost
more per row than validating and pricing them (``bench/ingest.py``). These
helpers write one INSERT (or UPDATE) per chunk, each column sent as one
array parameter, and do what the ORM does around its own statement:

- access rights, then record rules and company checks on the rows written;
- defaults and log-access columns of a create;
- every value converted to its column: floats rounded to their digits and
  amounts to their currency (a numeric column alone does not round), time
  zone aware datetimes and unknown selection values refused;
- stored related fields filled from their targets, other stored computed
  fields computed (unless given, when editable);
- caches invalidated, ``modified`` (with ``create=True``) and the Python
  constraints (``_validate_fields``).

Only plain field types are handled (char, selection, integer, float,
monetary, boolean, many2one, date, datetime, json); a translated, html,
binary or x2many field is refused: use the ORM for those. Models reach these
through their ``_bulk_create`` / ``_bulk_write`` methods (``prepaid.bulk.mixin``),
which other modules can override.
"""

import contextlib
import datetime
import gc
import json
from decimal import Decimal

from odoo import fields, models
from odoo.tools import SQL
from psycopg2.extras import Json as PsycopgJson

#: rows per statement: big enough to amortise the round trip, small enough for memory
CHUNK_SIZE = 5000
PLAIN_TYPES = frozenset(
    {
        "char",
        "selection",
        "integer",
        "float",
        "monetary",
        "boolean",
        "many2one",
        "date",
        "datetime",
        "json",
    }
)


# --------------------------------------------------------------------------- batches


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector for one batch.

    A reading cycle keeps hundreds of thousands of small objects alive until it
    is stored (rows, values, engine results); each full collection on the way
    scans all of them and the whole registry, again and again: measured a third
    of a 10,000-meter cycle's CPU. The batch makes no garbage cycles worth
    chasing meanwhile; the collector resumes, as it was, when it ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------- create


def create(model, vals_list, chunk_size=CHUNK_SIZE):
    """Create ``model`` records from ``vals_list`` as ``create`` would; return them in order."""
    model = model.browse()
    if not vals_list:
        return model
    model.check_access("create")
    env = model.env
    vals_list = _with_defaults(model, vals_list)
    given = sorted(set().union(*vals_list))
    for fname in given:
        _check_plain(model, fname, create=True)
    related = _related_columns(model, vals_list, set(given))
    rows = _Rows(model, vals_list=vals_list, known=related)
    columns = {fname: _column(model, model._fields[fname], rows) for fname in given}
    columns.update(related)
    now = env.cr.now()
    constants = {}
    if model._log_access:
        constants = {"create_uid": env.uid, "create_date": now, "write_uid": env.uid}
        constants["write_date"] = now
    ids = []
    for start in range(0, len(vals_list), chunk_size):
        end = min(start + chunk_size, len(vals_list))
        query = _insert_query(model, columns, constants, start, end)
        ids += [row[0] for row in env.execute_query(query)]
    records = model.browse(ids)
    written = [*given, *related]
    _invalidate_inverse_one2many(model, written)
    for fname in written:  # what modified() follows from the new rows: no fetch back
        field = model._fields[fname]
        if field.type == "many2one":
            env.cache.update(records, field, columns[fname].values)
    # given editable computed fields keep their value, as in create
    protected = [model._fields[fname] for fname in given if model._fields[fname].compute]
    with env.protecting(protected, records):
        records.modified([fname for fname, field in model._fields.items() if field.store], True)
    for fname, field in model._fields.items():
        if not (field.store and field.compute) or fname in columns:
            continue
        env.add_to_compute(field, records)
    for fname in related:  # just written: nothing to recompute
        env.remove_to_compute(model._fields[fname], records)
    records._validate_fields(written)
    records.check_access("create")
    _check_companies(records, written)
    return records


def _with_defaults(model, vals_list):
    """``vals_list`` completed with the defaults of the fields some rows leave out.

    Only plain stored fields take a default: related and computed ones follow
    from the row (a caller's ``default_company_id`` in the context must not
    reach a reading's related company)."""
    stored = {
        fname
        for fname, field in model._fields.items()
        if field.store and not (field.compute or field.related)
    }
    missing = set()
    for vals in vals_list:
        missing.update(stored.difference(vals))
    missing -= {"id", "create_uid", "create_date", "write_uid", "write_date"}
    defaults = model.default_get(sorted(missing)) if missing else {}
    if not defaults:
        return vals_list
    return [{**defaults, **vals} if defaults.keys() - vals.keys() else vals for vals in vals_list]


def _insert_query(model, columns, constants, start, end):
    """INSERT of rows ``start:end``: one array parameter per column, rounded on the way in."""
    arrays, names, selected = [], [], []
    for fname, column in columns.items():
        field = model._fields[fname]
        values = column.values[start:end]
        arrays.append(SQL("%s::%s[]", pg_array(values), SQL(column.sql_type)))
        names.append(SQL.identifier(fname))
        selected.append(column.select(fname))
        if column.rounding is not None:
            arrays.append(SQL("%s::numeric[]", pg_array(column.rounding[start:end])))
            arrays.append(SQL("%s::int4[]", pg_array(column.decimals[start:end])))
            names += [SQL.identifier(f"{field.name}__r"), SQL.identifier(f"{field.name}__d")]
    for fname, value in constants.items():
        column_type = SQL(model._fields[fname].column_type[1])
        selected.append(SQL("%s::%s", value, column_type))
    return SQL(
        "INSERT INTO %s (%s) SELECT %s FROM unnest(%s) AS u(%s) RETURNING id",
        SQL.identifier(model._table),
        SQL(", ").join(SQL.identifier(fname) for fname in [*columns, *constants]),
        SQL(", ").join(selected),
        SQL(", ").join(arrays),
        SQL(", ").join(names),
    )


# --------------------------------------------------------------------------- write


def write(records, fnames, rows):
    """Write different values to many records in one UPDATE per chunk, as ``write`` would.

    ``rows``: ``(record id, value, ...)`` with the values in the order of
    ``fnames``; the ids must be those of ``records``.
    """
    if not rows:
        return
    fnames = list(fnames)
    records.check_access("write")
    for fname in fnames:
        _check_plain(records, fname)
    records.flush_recordset([*fnames, *_log_fields(records)])
    env = records.env
    by_column = list(zip(*rows))
    ids = list(by_column[0])
    given = _Rows(records, ids=ids, given=dict(zip(fnames, by_column[1:])))
    columns = {fname: _column(records, records._fields[fname], given) for fname in fnames}
    for start in range(0, len(rows), CHUNK_SIZE):
        end = min(start + CHUNK_SIZE, len(rows))
        env.cr.execute(_update_query(records, columns, ids[start:end], start, end))
    _after_write(records.browse(ids), fnames)


def write_same(records, vals):
    """Write the same ``vals`` to every record of ``records``, one UPDATE per chunk."""
    if not records:
        return
    fnames = list(vals)
    records.check_access("write")
    for fname in fnames:
        _check_plain(records, fname)
    records.flush_recordset([*fnames, *_log_fields(records)])
    single = _Rows(records, ids=records.ids[:1], given={fname: [vals[fname]] for fname in fnames})
    one = {fname: _column(records, records._fields[fname], single) for fname in fnames}
    assignments = []
    for fname, column in one.items():
        value = SQL("%s::%s", column.values[0], SQL(column.sql_type))
        if column.digits is not None:
            value = SQL("round(%s, %s)", value, column.digits)
        elif column.rounding is not None:
            raise ValueError(f"bulk: write {fname} (an amount) with write(), per record")
        assignments.append(SQL("%s = %s", SQL.identifier(fname), value))
    if records._log_access:
        env = records.env
        assignments.append(SQL("write_uid = %s, write_date = %s", env.uid, env.cr.now()))
    ids = records.ids
    for start in range(0, len(ids), CHUNK_SIZE):
        records.env.cr.execute(
            SQL(
                "UPDATE %s SET %s WHERE id = ANY(%s::int4[])",
                SQL.identifier(records._table),
                SQL(", ").join(assignments),
                pg_array(ids[start : start + CHUNK_SIZE]),
            )
        )
    _after_write(records, fnames)


def _update_query(model, columns, ids, start, end):
    arrays = [SQL("%s::int4[]", pg_array(ids))]
    names = [SQL.identifier("id")]
    assignments = []
    for fname, column in columns.items():
        arrays.append(SQL("%s::%s[]", pg_array(column.values[start:end]), SQL(column.sql_type)))
        names.append(SQL.identifier(fname))
        assignments.append(SQL("%s = %s", SQL.identifier(fname), column.select(fname)))
        if column.rounding is not None:
            arrays.append(SQL("%s::numeric[]", pg_array(column.rounding[start:end])))
            arrays.append(SQL("%s::int4[]", pg_array(column.decimals[start:end])))
            names += [SQL.identifier(f"{fname}__r"), SQL.identifier(f"{fname}__d")]
    if model._log_access:
        env = model.env
        assignments.append(SQL("write_uid = %s, write_date = %s", env.uid, env.cr.now()))
    return SQL(
        "UPDATE %s t SET %s FROM unnest(%s) AS u(%s) WHERE t.id = u.id",
        SQL.identifier(model._table),
        SQL(", ").join(assignments),
        SQL(", ").join(arrays),
        SQL(", ").join(names),
    )


def _log_fields(model):
    return ("write_uid", "write_date") if model._log_access else ()


def _after_write(records, fnames):
    records.invalidate_recordset([*fnames, *_log_fields(records)], flush=False)
    for fname in fnames:  # a computed field written is its value: not to recompute
        field = records._fields[fname]
        if field.compute:
            records.env.remove_to_compute(field, records)
    _invalidate_inverse_one2many(records, fnames)
    records.modified(fnames)
    records._validate_fields(fnames)
    _check_companies(records, fnames)


# --------------------------------------------------------------------------- columns


class _Column:
    """The values of one field for every row, ready for an array parameter.

    ``rounding`` / ``decimals``: per row currency rounding of a monetary field
    (None: no currency rounding).
    """

    __slots__ = ("decimals", "digits", "rounding", "sql_type", "values")

    def __init__(self, values, sql_type, digits=None, rounding=None, decimals=None):
        self.values = values
        self.sql_type = sql_type
        self.digits = digits
        self.rounding = rounding
        self.decimals = decimals

    def select(self, fname):
        """The SQL giving the column's value from its unnested array ``u.<fname>``."""
        ref = SQL.identifier("u", fname)
        if self.digits is not None:
            return SQL("round(%s, %s)", ref, self.digits)
        if self.rounding is not None:
            return SQL(
                "CASE WHEN %(r)s IS NULL THEN %(v)s ELSE round(round(%(v)s / %(r)s) * %(r)s, %(d)s)"
                " END",
                r=SQL.identifier("u", f"{fname}__r"),
                v=ref,
                d=SQL.identifier("u", f"{fname}__d"),
            )
        return ref


def _check_plain(model, fname, create=False):
    field = model._fields.get(fname)
    if field is None:
        raise ValueError(f"Invalid field {fname!r} on model {model._name!r}")
    plain = field.store and field.column_type and field.type in PLAIN_TYPES
    plain = plain and not field.translate and not field.company_dependent
    plain = plain and not field.related and fname not in models.LOG_ACCESS_COLUMNS
    if create and field.compute and field.readonly:
        plain = False  # computed on create, never given (as create discards it)
    if not plain:
        raise ValueError(f"bulk: {model._name}.{fname} is not a plain stored field")


class _Rows:
    """The rows of a bulk statement: their values by field, and what is known of them.

    A create gives ``vals_list`` (and ``known``: the stored related columns
    computed already); a write gives the records' ``ids`` and ``given``, the
    values written by field name.
    """

    def __init__(self, model, vals_list=None, ids=None, given=None, known=None):
        self.model = model
        self.vals_list = vals_list
        self.ids = ids
        self.given = given if given is not None else {}
        self.known = dict(known or {})

    def values(self, fname):
        """The values given for ``fname``, one per row, or None if not given."""
        if fname in self.given:
            return self.given[fname]
        if self.vals_list is not None and any(fname in vals for vals in self.vals_list):
            return [vals.get(fname) for vals in self.vals_list]
        return None


def _column(model, field, rows):
    """The ``_Column`` of ``field`` for ``rows`` (a ``_Rows``)."""
    values = rows.values(field.name) or [None] * len(rows.ids or rows.vals_list)
    kind = field.type
    sql_type = field.column_type[1]
    if kind == "many2one":
        return _Column([_id(value) for value in values], sql_type)
    if kind == "float":
        digits = field.get_digits(model.env)
        numbers = [_number(value) for value in values]
        return _Column(numbers, sql_type, digits=digits[1] if digits else None)
    if kind == "monetary":
        numbers = [_number(value) for value in values]
        rounding, decimals = _currency_rounding(model, field, rows)
        return _Column(numbers, sql_type, rounding=rounding, decimals=decimals)
    if kind == "integer":
        return _Column([int(value or 0) for value in values], sql_type)
    if kind == "boolean":
        return _Column([bool(value) for value in values], sql_type)
    if kind == "datetime":
        if any(value.__class__ is not datetime.datetime or value.tzinfo for value in values):
            values = [_datetime(value) for value in values]
        return _Column(values, sql_type)
    if kind == "date":
        return _Column([fields.Date.to_date(value) or None for value in values], sql_type)
    if kind == "selection":
        allowed = set(field.get_values(model.env))
        for value in set(values) - allowed - {None, False}:
            raise ValueError(f"Wrong value for {model._name}.{field.name}: {value!r}")
        return _Column([value or None for value in values], sql_type)
    if kind == "json":
        return _Column([None if value is None else json.dumps(value) for value in values], sql_type)
    # char
    size = field.size
    texts = [(str(value)[:size] if size else str(value)) if value else None for value in values]
    return _Column(texts, sql_type)


def _number(value):
    if isinstance(value, Decimal):
        return value
    return value or 0


def _datetime(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"Datetime field expects a naive datetime: {value}")
        return value
    return fields.Datetime.to_datetime(value) or None


def _currency_rounding(model, field, rows):
    """``(rounding per row, decimal places per row)`` of a monetary field's currency.

    The currency of each row is found once per statement (kept in ``rows.known``)
    for all its amounts.
    """
    currency_field = field.get_currency_field(model)
    cache_key = ("__currency__", currency_field)
    if cache_key not in rows.known:
        rows.known[cache_key] = _currency_ids(model, currency_field, rows)
    currency_ids = rows.known[cache_key]
    currencies = model.env["res.currency"].browse(set(currency_ids) - {None})
    by_id = {currency.id: (currency.rounding, currency.decimal_places) for currency in currencies}
    rounding = [by_id[cid][0] if cid in by_id else None for cid in currency_ids]
    decimals = [by_id[cid][1] if cid in by_id else None for cid in currency_ids]
    return rounding, decimals


def _currency_ids(model, currency_field, rows):
    """The currency (id or None) of each row."""
    given = rows.values(currency_field)
    if given is not None:
        return [_id(value) for value in given]
    if currency_field in rows.known:
        return rows.known[currency_field].values
    if rows.ids is not None:  # a write: the records' own currency
        currencies = follow(model, rows.ids, currency_field)
        return [currencies.get(record_id) for record_id in rows.ids]
    hops = _expand(model, currency_field)
    # start from the longest prefix a stored related column already holds
    # (a ledger line's company is its account's: the currency is one hop from there)
    held = {
        model._fields[fname].related: fname
        for fname in rows.known
        if isinstance(fname, str) and model._fields[fname].type == "many2one"
    }
    for size in range(len(hops) - 1, 0, -1):
        fname = held.get(".".join(hops[:size]))
        if fname is not None:
            start, keys, rest = fname, rows.known[fname].values, hops[size:]
            break
    else:
        start, rest = hops[0], hops[1:]
        if start in rows.known:
            keys = rows.known[start].values
        else:
            keys = [_id(value) for value in rows.values(start) or [None] * len(rows.vals_list)]
    if not rest:
        return keys
    comodel = model.env[model._fields[start].comodel_name]
    targets = follow(comodel, list(set(keys) - {None}), ".".join(rest))
    return [targets.get(key) for key in keys]


def _id(value):
    """A many2one value (record or id) as an id or None."""
    return (value.id if isinstance(value, models.BaseModel) else value) or None


# --------------------------------------------------------------------------- related values


def follow(model, ids, path):
    """``{id: value}`` of the dotted ``path`` from the ``model`` records ``ids``.

    Follows plain stored columns with one query per hop (non-stored related
    fields are expanded into their own paths); anything else through the ORM.
    Many2one values are ids.
    """
    hops = _expand(model, path)
    current = {record_id: record_id for record_id in ids}
    for position, fname in enumerate(hops):
        field = model._fields[fname]
        if not _plain_column(field):
            rest = ".".join(hops[position:])
            return _follow_orm(model, current, rest)
        targets = list(set(current.values()) - {None, False})
        model.flush_model([fname])
        values = {}
        if targets:
            rows = model.env.execute_query(
                SQL(
                    "SELECT id, %s FROM %s WHERE id = ANY(%s::int4[])",
                    SQL.identifier(fname),
                    SQL.identifier(model._table),
                    pg_array(targets),
                )
            )
            values = dict(rows)
        current = {key: values.get(target) for key, target in current.items()}
        if field.type == "many2one":
            model = model.env[field.comodel_name]
        elif position < len(hops) - 1:
            raise ValueError(f"bulk: {path!r} goes through a non-relational field {fname!r}")
    return current


def _follow_orm(model, current, path):
    result = {}
    for key, target in current.items():
        if not target:
            result[key] = None
            continue
        value = model.browse(target)[path.split(".")[0]]
        for fname in path.split(".")[1:]:
            value = value[fname]
        result[key] = value.id or None if isinstance(value, models.BaseModel) else value
    return result


def _expand(model, path):
    """``path`` with every non-stored related field replaced by its own path."""
    hops = []
    for fname in path.split("."):
        field = model._fields[fname]
        if field.related and not field.store:
            sub = _expand(model, field.related)
            hops += sub
            for hop in sub[:-1]:
                model = model.env[model._fields[hop].comodel_name]
            field = model._fields[sub[-1]]
        else:
            hops.append(fname)
        if field.type == "many2one":
            model = model.env[field.comodel_name]
    return hops


def _related_columns(model, vals_list, given):
    """``{fname: _Column}`` of the stored related fields the rows do not give.

    Those one hop away from a plain column are read in one query per first hop.
    """
    result = {}
    by_first = {}  # first field of the path -> [(related field, rest of the path)]
    for fname, field in model._fields.items():
        if field.store and field.related and fname not in given:
            first, *rest = field.related.split(".")
            by_first.setdefault(first, []).append((field, rest))
    for first, fields_paths in by_first.items():
        keys = [_id(vals.get(first)) for vals in vals_list]
        comodel = model.env[model._fields[first].comodel_name]
        targets = list(set(keys) - {None})
        direct = [
            (field, rest[0])
            for field, rest in fields_paths
            if len(rest) == 1 and _plain_column(comodel._fields[rest[0]])
        ]
        if direct:
            comodel.flush_model([target for _field, target in direct])
            values = {}
            if targets:
                rows = model.env.execute_query(
                    SQL(
                        "SELECT id, %s FROM %s WHERE id = ANY(%s::int4[])",
                        SQL(", ").join(SQL.identifier(target) for _field, target in direct),
                        SQL.identifier(comodel._table),
                        pg_array(targets),
                    )
                )
                values = {row[0]: row[1:] for row in rows}
            for position, (field, _target) in enumerate(direct):
                result[field.name] = _Column(
                    [values[key][position] if key in values else None for key in keys],
                    field.column_type[1],
                )
        for field, rest in fields_paths:
            if field.name not in result:
                found = follow(comodel, targets, ".".join(rest))
                result[field.name] = _Column([found.get(key) for key in keys], field.column_type[1])
    return result


def _plain_column(field):
    """The column holds the field's value as is (not translated, not per company)."""
    return bool(field.store and field.column_type) and not (
        field.translate or field.company_dependent
    )


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
            comodel.invalidate_model(stale, flush=False)


# --------------------------------------------------------------------------- checks


def _check_companies(records, fnames):
    """``_check_company`` of the written fields, one query per company and field.

    Only when a row is inconsistent does the ORM's own (per record) check run,
    to raise its message.
    """
    if not records._check_company_auto or "company_id" not in records._fields:
        return
    own_company = records._fields["company_id"].related or ""
    names = [
        fname
        for fname in (records._fields if "company_id" in fnames else fnames)
        if records._fields[fname].relational
        and records._fields[fname].check_company
        and not records._fields[fname].company_dependent
        and records._fields[fname].type == "many2one"
        # the records' company is that field's own company: consistent by definition
        and own_company != f"{fname}.company_id"
    ]
    if not names:
        return
    companies = follow(records, records.ids, "company_id")
    for fname in names:
        values = follow(records, records.ids, fname)
        by_company = {}
        for record_id, value in values.items():
            if value:
                by_company.setdefault(companies.get(record_id), set()).add(value)
        # as _check_company: the targets' companies, whoever may read them
        comodel_sudo = records.env[records._fields[fname].comodel_name].sudo()
        comodel_sudo = comodel_sudo.with_context(active_test=False)
        for company_id, target_ids in by_company.items():
            company = records.env["res.company"].browse(company_id)
            domain = comodel_sudo.browse()._check_company_domain(company)
            if not domain:
                continue
            found = comodel_sudo.search_count([("id", "in", list(target_ids)), *domain])
            if found != len(target_ids):
                records._check_company([fname])  # raises, naming the records


# --------------------------------------------------------------------------- arrays


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
    if kinds <= _NUMBERS_OR_NONE:
        return "{" + ",".join(["NULL" if value is None else str(value) for value in values]) + "}"
    if kinds <= _STAMPS_OR_NONE:  # their text has no quote nor backslash
        return "{" + ",".join(["NULL" if value is None else f'"{value}"' for value in values]) + "}"
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
_NUMBERS_OR_NONE = _NUMBER_TYPES | {type(None)}
_STAMPS_OR_NONE = frozenset({datetime.datetime, datetime.date, type(None)})
#: array element text per exact type (the usual ones); anything else: _array_element
_ARRAY_FORMATS = {
    type(None): lambda value: "NULL",
    bool: lambda value: "t" if value else "f",
    int: str,
    float: str,
    Decimal: str,
    str: _quoted,
    # their text has no quote nor backslash: no escaping
    datetime.datetime: lambda value: f'"{value}"',
    datetime.date: lambda value: f'"{value}"',
}
