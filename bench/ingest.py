"""Benchmark of reading ingestion and billing through the Odoo ORM, against plain SQL.

Sets up (once, committed) a site with N meters, each in its own unit, opened
on its own tenant's prepaid account (opening balance 500, alarms at 50 / 20 /
0, so the timed cycle is the steady state) with a TOU + tier tariff; then ingests one
reading cycle (one reading per meter, the next 15-minute slot) through
``prepaid.reading._ingest(rows, price=True)``, which prices and posts it as it
stores it (charges and consumption ledger lines), and commits; with
``--two-step``, stored by ``_ingest`` and priced by the pricing cron method
instead. Only that cycle is timed.

The figure counts only when the cycle was complete: every reading stored and
priced, its charges, ledger lines, balances and meter states in the database
adding up (checked after the commit, by SQL).

The floor: the same rows (readings already priced, charges, ledger lines,
balance updates, the meters' last and priced readings and engine memory)
written by plain SQL in one transaction, from values already in Python, one
array-parameter statement per table (then rolled back). The ratio is the ORM
cycle's rate over the floor's.

Odoo is imported from the path given on the command line (never vendored); run
it with Odoo's interpreter:

    /opt/odoo18/venv/bin/python bench/ingest.py --odoo /opt/odoo18 -d DB \\
        --addons-path /opt/odoo18/odoo/addons,. [--meters 10000]

The database must have prepaid_energy installed. Run it again for the next cycle.
"""

import argparse
import datetime
import pathlib
import random
import resource
import sys
import time

TARGET_RATE = 5000  # readings/s
TARGET_RATIO = 0.2  # of the plain-SQL floor
TARGET_MEMORY_MB = 200
SITE_CODE = "BENCH"
SERIAL_PREFIX = "BENCH-"
CREATE_BATCH = 1000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", required=True, help="Odoo 18 source directory (has odoo-bin)")
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument(
        "--two-step",
        action="store_true",
        help="store the cycle, then price it with the pricing cron (default: a meter reading"
        " cycle, prepaid.reading._ingest(rows, price=True), priced as it is stored)",
    )
    parser.add_argument("--db_host")
    parser.add_argument("--db_port")
    return parser.parse_args()


def bootstrap_odoo(args):
    """Import Odoo from ``--odoo`` and return its registry of the database."""
    sys.path.insert(0, args.odoo)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # the core
    import odoo

    options = ["-d", args.database, f"--addons-path={args.addons_path}"]
    options += [f"--db_host={args.db_host}"] if args.db_host else []
    options += [f"--db_port={args.db_port}"] if args.db_port else []
    odoo.tools.config.parse_config(options)
    return odoo, odoo.modules.registry.Registry(args.database)


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# --------------------------------------------------------------------------- set-up


def ensure_tariff(env, Command):
    Tariff = env["prepaid.tariff"]
    tariff = Tariff.search([("code", "=", "BENCH-TOU-TIER")], limit=1)
    if tariff:
        return tariff

    def period(day_type, start, end, band):
        return Command.create(
            {"day_type": day_type, "hour_from": start, "hour_to": end, "band": band}
        )

    return Tariff.create(
        {
            "name": "Bench TOU + tier",
            "code": "BENCH-TOU-TIER",
            "version_ids": [
                Command.create(
                    {
                        "date_from": "2024-01-01",
                        "kind": "tou",
                        "period_ids": [
                            period("workday", 0, 7, "valley"),
                            period("workday", 7, 8, "flat"),
                            period("workday", 8, 11, "peak"),
                            period("workday", 11, 17, "flat"),
                            period("workday", 17, 19, "peak"),
                            period("workday", 19, 21, "sharp"),
                            period("workday", 21, 23, "flat"),
                            period("workday", 23, 24, "valley"),
                            period("weekend", 7, 23, "flat"),
                            period("weekend", 23, 7, "valley"),
                        ],
                        "price_ids": [
                            Command.create({"band": band, "price": price})
                            for band, price in (
                                ("sharp", 1.35),
                                ("peak", 1.10),
                                ("flat", 0.70),
                                ("valley", 0.35),
                            )
                        ],
                        "tier_ids": [
                            Command.create({"qty_from": 0, "qty_to": 200, "surcharge": 0}),
                            Command.create({"qty_from": 200, "qty_to": 400, "surcharge": 0.05}),
                            Command.create({"qty_from": 400, "surcharge": 0.30}),
                        ],
                    }
                )
            ],
        }
    )


def ensure_meters(env, Command, count, start_time):
    """The site, its units, tenants, open accounts and meters: created once."""
    Location = env["prepaid.location"]
    site = Location.search([("code", "=", SITE_CODE), ("location_type", "=", "site")], limit=1)
    if not site:
        site = Location.create(
            {
                "name": "Bench Park",
                "code": SITE_CODE,
                "location_type": "site",
                "tz": "Asia/Shanghai",
                "reading_interval": 15,
                "default_tariff_id": ensure_tariff(env, Command).id,
                "alarm1_amount": 50,
                "alarm2_amount": 20,
                "arrears_amount": 0,
            }
        )
    Meter = env["prepaid.meter"]
    existing = Meter.search_count([("serial", "=like", f"{SERIAL_PREFIX}%")])
    if existing >= count:
        return Meter.search([("serial", "=like", f"{SERIAL_PREFIX}%")], limit=count, order="id")
    for start in range(existing, count, CREATE_BATCH):
        numbers = range(start, min(start + CREATE_BATCH, count))
        units = Location.create(
            [
                {"name": f"U{n:05d}", "location_type": "unit", "parent_id": site.id, "area": 50}
                for n in numbers
            ]
        )
        tenants = env["res.partner"].create(
            [{"name": f"Bench tenant {n:05d}", "is_prepaid_tenant": True} for n in numbers]
        )
        meters = Meter.create(
            [
                {"serial": f"{SERIAL_PREFIX}{n:06d}", "unit_id": unit.id}
                for n, unit in zip(numbers, units)
            ]
        )
        starts = env["prepaid.reading"]._ingest(
            [{"meter_id": meter.id, "timestamp": start_time, "total": "1000"} for meter in meters]
        )["created"]
        accounts = env["prepaid.account"].create(
            [{"partner_id": tenant.id, "unit_id": unit.id} for tenant, unit in zip(tenants, units)]
        )
        accounts.write({"state": "open", "date_open": start_time})
        # steady state: tenants in credit, no alarm crossing during the timed cycle
        env["prepaid.account"]._post_ledger_lines(
            [
                {"account_id": account.id, "kind": "opening", "amount": 500, "date": start_time}
                for account in accounts
            ]
        )
        for meter, account, reading in zip(meters, accounts, starts):
            meter._open_on_account(account, reading)
        env.cr.commit()
        print(f"set-up: {min(start + CREATE_BATCH, count)}/{count} meters", flush=True)
    return Meter.search([("serial", "=like", f"{SERIAL_PREFIX}%")], limit=count, order="id")


# --------------------------------------------------------------------------- the cycle


def next_cycle_rows(meters, interval):
    """One reading per meter in the slot after the latest one, 0.05-0.60 kWh later."""
    latest = max(meters.mapped("last_reading_date"))
    slot = latest - datetime.timedelta(minutes=latest.minute % 15, seconds=latest.second)
    when = slot + interval
    rng = random.Random(when.timestamp())
    return when, [
        {
            "meter_id": meter.id,
            "timestamp": when + datetime.timedelta(seconds=rng.randint(0, 59)),
            "total": f"{meter.last_total + rng.randint(50, 600) / 1000:.3f}",
            "source": "hardware",
        }
        for meter in meters
    ]


def time_money_side(registry, spent):
    """Accumulate in ``spent`` the time spent in the money side's ledger posting."""
    Account = registry["prepaid.account"]
    post = Account._post_ledger_lines

    def timed_post(self, vals_list):
        started = time.perf_counter()
        try:
            return post(self, vals_list)
        finally:
            spent.append(time.perf_counter() - started)

    Account._post_ledger_lines = timed_post


# --------------------------------------------------------------------------- checks


def check_complete(cr, meter_ids, reading_ids, balances_before):
    """Problems (an empty list when complete) of the cycle's rows, read back by SQL."""
    problems = []
    cr.execute(
        "SELECT count(*), count(*) FILTER (WHERE state = 'priced'), coalesce(sum(delta), 0)"
        " FROM prepaid_reading WHERE id = ANY(%s)",
        [reading_ids],
    )
    count, priced, consumed = cr.fetchone()
    if count != len(meter_ids) or priced != count:
        problems.append(f"{count} readings stored, {priced} priced, of {len(meter_ids)} meters")
    cr.execute(
        "SELECT count(*), count(DISTINCT reading_id), coalesce(sum(quantity), 0),"
        " coalesce(sum(amount), 0) FROM prepaid_charge WHERE reading_id = ANY(%s)",
        [reading_ids],
    )
    charges, charged_readings, quantity, charged = cr.fetchone()
    if charged_readings != count or round(quantity - consumed, 6):
        problems.append(
            f"charges: {charged_readings} readings charged of {count},"
            f" {quantity} kWh charged of {consumed} read"
        )
    cr.execute(
        "SELECT count(*), coalesce(sum(amount), 0), count(DISTINCT account_id)"
        " FROM prepaid_ledger_line WHERE id IN"
        " (SELECT ledger_line_id FROM prepaid_charge WHERE reading_id = ANY(%s))",
        [reading_ids],
    )
    lines, posted, accounts = cr.fetchone()
    if lines != len(meter_ids) or round(posted + charged, 6):
        problems.append(f"ledger: {lines} lines posting {posted}, charges {charged}")
    cr.execute(
        "SELECT coalesce(sum(balance), 0) FROM prepaid_account WHERE id = ANY(%s)",
        [list(balances_before)],
    )
    (balance_after,) = cr.fetchone()
    moved = balance_after - sum(balances_before.values())
    if round(moved - posted, 6):
        problems.append(f"balances moved {moved}, ledger posted {posted}")
    cr.execute(
        "SELECT count(*) FROM prepaid_meter m WHERE m.id = ANY(%s)"
        " AND m.priced_reading_id = m.last_reading_id AND m.last_reading_id = ANY(%s)",
        [meter_ids, reading_ids],
    )
    (advanced,) = cr.fetchone()
    if advanced != len(meter_ids):
        problems.append(f"{advanced} meters point at their new reading of {len(meter_ids)}")
    return problems, charges, lines


# --------------------------------------------------------------------------- the floor

READING_COLUMNS = (
    "meter_id company_id site_id account_id timestamp slot total sharp peak flat valley"
    " has_bands raw_delta delta flags is_estimate source state reject_reason"
    " create_uid create_date write_uid write_date"
).split()
LEDGER_COLUMNS = (
    "account_id partner_id company_id date date_start kind amount balance_after description"
    " meter_id user_id create_uid create_date write_uid write_date"
).split()
CHARGE_COLUMNS = (
    "meter_id utility site_id unit_id account_id partner_id reading_id date_start date_end"
    " band tier is_free quantity unit_price amount company_id tariff_version_id tariff_id"
    " product_id ledger_line_id create_uid create_date write_uid write_date"
).split()


def fetch_rows(cr, table, columns, where, ids, order="id"):
    cr.execute(
        f"SELECT id, {', '.join(columns)} FROM {table} WHERE {where} = ANY(%s) ORDER BY {order}",
        [ids],
    )
    return cr.fetchall()


def floor_data(cr, meter_ids, reading_ids):
    """The rows the ORM cycle wrote, as Python values (read back, not timed)."""
    readings = fetch_rows(cr, "prepaid_reading", READING_COLUMNS, "id", reading_ids)
    charges = fetch_rows(cr, "prepaid_charge", CHARGE_COLUMNS, "reading_id", reading_ids)
    ledger_ids = sorted({row[1 + CHARGE_COLUMNS.index("ledger_line_id")] for row in charges})
    ledger = fetch_rows(cr, "prepaid_ledger_line", LEDGER_COLUMNS, "id", ledger_ids)
    cr.execute(
        "SELECT id, balance FROM prepaid_account WHERE id IN"
        " (SELECT account_id FROM prepaid_meter WHERE id = ANY(%s))",
        [meter_ids],
    )
    balances = cr.fetchall()
    cr.execute(
        "SELECT id, pricing_state::text, last_total FROM prepaid_meter WHERE id = ANY(%s)",
        [meter_ids],
    )
    meters = cr.fetchall()
    return readings, charges, ledger, balances, meters


def floor_write(cr, pg_array, readings, charges, ledger, balances, meters):
    """Write the same rows by plain SQL, one statement per table; return the seconds."""
    started = time.perf_counter()
    types = column_types(cr, ("prepaid_reading", "prepaid_charge", "prepaid_ledger_line"))
    slot = READING_COLUMNS.index("slot") + 1
    # another slot (a second later): the ORM's readings hold theirs
    shifted = [
        row[:slot] + (row[slot] + datetime.timedelta(seconds=1),) + row[slot + 1 :]
        for row in readings
    ]
    reading_ids = insert(cr, pg_array, "prepaid_reading", READING_COLUMNS, shifted, types)
    new_reading = dict(zip((row[0] for row in readings), reading_ids))
    ledger_ids = insert(cr, pg_array, "prepaid_ledger_line", LEDGER_COLUMNS, ledger, types)
    new_line = dict(zip((row[0] for row in ledger), ledger_ids))
    at_reading = CHARGE_COLUMNS.index("reading_id") + 1
    at_line = CHARGE_COLUMNS.index("ledger_line_id") + 1
    linked = []
    for row in charges:
        row = list(row)
        row[at_reading], row[at_line] = new_reading[row[at_reading]], new_line[row[at_line]]
        linked.append(row)
    insert(cr, pg_array, "prepaid_charge", CHARGE_COLUMNS, linked, types)
    cr.execute(
        "UPDATE prepaid_account a SET balance = v.balance, write_date = now() AT TIME ZONE 'UTC'"
        " FROM unnest(%s::int4[], %s::numeric[]) AS v(id, balance) WHERE a.id = v.id",
        [pg_array([row[0] for row in balances]), pg_array([row[1] for row in balances])],
    )
    by_meter = {row[1]: new_reading[row[0]] for row in readings}
    stamp = READING_COLUMNS.index("timestamp") + 1
    when = {row[1]: row[stamp] for row in readings}
    cr.execute(
        "UPDATE prepaid_meter m SET last_reading_id = v.reading, priced_reading_id = v.reading,"
        " last_reading_date = v.stamp, last_total = v.total, pricing_state = v.state,"
        " write_date = now() AT TIME ZONE 'UTC'"
        " FROM unnest(%s::int4[], %s::int4[], %s::timestamp[], %s::numeric[], %s::jsonb[])"
        " AS v(id, reading, stamp, total, state) WHERE m.id = v.id",
        [
            pg_array([row[0] for row in meters]),
            pg_array([by_meter[row[0]] for row in meters]),
            pg_array([when[row[0]] for row in meters]),
            pg_array([row[2] for row in meters]),
            pg_array([row[1] for row in meters]),
        ],
    )
    return time.perf_counter() - started


def column_types(cr, tables):
    cr.execute(
        "SELECT table_name, column_name, udt_name FROM information_schema.columns"
        " WHERE table_name = ANY(%s)",
        [list(tables)],
    )
    return {(table, column): kind for table, column, kind in cr.fetchall()}


def insert(cr, pg_array, table, columns, rows, types):
    arrays = [f"%s::{types[table, column]}[]" for column in columns]
    by_column = list(zip(*rows))[1:]
    cr.execute(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" SELECT * FROM unnest({', '.join(arrays)}) RETURNING id",
        [pg_array(values) for values in by_column],
    )
    return [row[0] for row in cr.fetchall()]


# --------------------------------------------------------------------------- main


def main():
    args = parse_args()
    odoo, registry = bootstrap_odoo(args)
    from odoo import Command, api
    from odoo.addons.prepaid_energy.tools.bulk import pg_array

    interval = datetime.timedelta(minutes=15)
    start_time = datetime.datetime(2025, 3, 3, 0, 0)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        meters = ensure_meters(env, Command, args.meters, start_time)
        cr.commit()
        meter_ids = meters.ids
        cr.execute(
            "SELECT a.id, a.balance FROM prepaid_account a JOIN prepaid_meter m"
            " ON m.account_id = a.id WHERE m.id = ANY(%s)",
            [meter_ids],
        )
        balances_before = dict(cr.fetchall())

    money_side = []
    time_money_side(registry, money_side)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        meters = env["prepaid.meter"].browse(meter_ids)
        when, rows = next_cycle_rows(meters, interval)
        env.invalidate_all()
        rss_before = max_rss_mb()
        cpu_started = time.process_time()
        started = time.perf_counter()
        result = env["prepaid.reading"]._ingest(rows, price=not args.two_step)
        ingested = time.perf_counter()
        Meter = env["prepaid.meter"]
        while Meter._cron_price_readings():
            pass  # the two-step cycle's pricing; nothing left after a one-pass cycle
        env.flush_all()
        priced = time.perf_counter()
        cr.commit()
        finished = time.perf_counter()
        cpu = time.process_time() - cpu_started
        rss_after = max_rss_mb()
        reading_ids = result["created"].ids

    with registry.cursor() as cr:
        problems, charges, lines = check_complete(cr, meter_ids, reading_ids, balances_before)
        data = floor_data(cr, meter_ids, reading_ids)
        floor = floor_write(cr, pg_array, *data)
        cr.rollback()

    count = len(reading_ids)
    if result["rejected"]:
        problems.append(f"{len(result['rejected'])} rejected, e.g. {result['rejected'][:1]}")
    elapsed = finished - started
    rate = count / elapsed
    floor_rate = count / floor
    ratio = rate / floor_rate
    growth = rss_after - rss_before
    way = "stored, then priced by the cron" if args.two_step else "priced as stored"
    print(
        f"cycle at {when} (UTC), {way}: {count} readings, {charges} charges, {lines} ledger lines"
    )
    steps = f"ingest {ingested - started:.2f} s, price + post {priced - ingested:.2f} s"
    if not args.two_step:
        steps = f"ingest + price + post {priced - started:.2f} s"
    print(
        f"{steps} (of which prepaid.account._post_ledger_lines {sum(money_side):.2f} s),"
        f" commit {finished - priced:.2f} s; total {elapsed:.2f} s, of which {cpu:.2f} s"
        " CPU in the Odoo worker (the rest: PostgreSQL and waiting for a core)"
    )
    if problems:
        print("INCOMPLETE, the figure does not count: " + "; ".join(problems))
    print(f"ingest+bill: {rate:.0f} readings/s (target >= {TARGET_RATE} readings/s)")
    print(f"plain SQL floor: {floor:.2f} s, {floor_rate:.0f} readings/s")
    print(f"ratio: {ratio:.2f} of the floor (target >= {TARGET_RATIO})")
    print(f"memory growth: {growth:.1f} MB (target <= {TARGET_MEMORY_MB} MB)")
    met = rate >= TARGET_RATE and ratio >= TARGET_RATIO and growth <= TARGET_MEMORY_MB
    return 0 if met and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
