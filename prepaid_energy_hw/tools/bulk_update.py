"""Write different values to many rows in one UPDATE.

A read cycle changes a few hardware fields of thousands of meters, each with its
own values (last seen, relay, meter balance): one ORM write per meter costs more
than the whole cycle. Only plain stored fields that nothing depends on in the
database are written here; the ORM cache is refreshed and dependents marked.
"""

from odoo.tools import SQL

#: SQL type of the values of each field type handled here
COLUMN_TYPES = {
    "boolean": "bool",
    "integer": "int4",
    "float": "numeric",
    "monetary": "numeric",
    "datetime": "timestamp",
    "char": "varchar",
    "selection": "varchar",
    "many2one": "int4",
    "json": "jsonb",
}


def update_rows(model, rows, fnames):
    """``rows``: ``{record id: (value, ...)}`` in the order of ``fnames``."""
    if not rows:
        return
    fields_ = [model._fields[fname] for fname in fnames]
    for field in fields_:
        if not field.store or field.compute or field.type not in COLUMN_TYPES:
            raise ValueError(f"update_rows: {model._name}.{field.name} is not a plain column")
    ids = list(rows)
    records = model.browse(ids)
    records.flush_recordset()  # nothing of these rows may stay pending under the UPDATE
    columns = list(zip(*rows.values()))
    arrays = [SQL("%s::int4[]", ids)]
    for field, values in zip(fields_, columns):
        values = [_column_value(field, value) for value in values]
        arrays.append(SQL("%s::%s[]", values, SQL(COLUMN_TYPES[field.type])))
    names = SQL(", ").join(SQL.identifier(fname) for fname in fnames)
    model.env.cr.execute(
        SQL(
            "UPDATE %s t SET %s, write_date = %s, write_uid = %s"
            " FROM unnest(%s) AS v(id, %s) WHERE t.id = v.id",
            SQL.identifier(model._table),
            SQL(", ").join(
                SQL("%s = v.%s", SQL.identifier(fname), SQL.identifier(fname)) for fname in fnames
            ),
            model.env.cr.now(),
            model.env.uid,
            SQL(", ").join(arrays),
            names,
        )
    )
    records.invalidate_recordset([*fnames, "write_date", "write_uid"], flush=False)
    records.modified(fnames)


def _column_value(field, value):
    if field.type == "many2one":
        return getattr(value, "id", value) or None
    if field.type == "json":
        return None if value is None or value is False else field.convert_to_column(value, None)
    if value is False and field.type not in ("boolean", "integer", "float", "monetary"):
        return None
    return value
