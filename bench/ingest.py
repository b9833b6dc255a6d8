"""Benchmark of reading ingestion and billing through the Odoo ORM.

Sets up (once, committed) a site with N meters, each in its own unit, opened
on its own tenant's prepaid account (opening balance 500, alarms at 50 / 20 /
0, so the timed cycle is the steady state) with a TOU + tier tariff; then ingests one
reading cycle (one reading per meter, the next 15-minute slot) through
``prepaid.reading._ingest`` and prices it through the pricing cron method
(charges and consumption ledger lines), and commits. Only that cycle is timed.

Odoo is imported from the path given on the command line (never vendored):

    /work/odoo-venv/bin/python bench/ingest.py --odoo /work/odoo18 -d DB \\
        --addons-path /work/odoo18/odoo/addons,/work/main [--meters 10000]

The database must have prepaid_energy installed. Run it again for the next cycle.
"""

import argparse
import datetime
import random
import resource
import sys
import time

TARGET_RATE = 1000  # readings/s
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
    parser.add_argument("--db_host")
    parser.add_argument("--db_port")
    return parser.parse_args()


def bootstrap_odoo(args):
    """Import Odoo from ``--odoo`` and return its registry of the database."""
    sys.path.insert(0, args.odoo)
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


def main():
    args = parse_args()
    odoo, registry = bootstrap_odoo(args)
    from odoo import Command, api

    interval = datetime.timedelta(minutes=15)
    start_time = datetime.datetime(2025, 3, 3, 0, 0)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        meters = ensure_meters(env, Command, args.meters, start_time)
        cr.commit()
        meter_ids = meters.ids

    money_side = []
    time_money_side(registry, money_side)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        meters = env["prepaid.meter"].browse(meter_ids)
        when, rows = next_cycle_rows(meters, interval)
        env.invalidate_all()
        rss_before = max_rss_mb()
        started = time.perf_counter()
        result = env["prepaid.reading"]._ingest(rows)
        ingested = time.perf_counter()
        Meter = env["prepaid.meter"]
        while Meter._cron_price_readings():
            pass
        env.flush_all()
        priced = time.perf_counter()
        cr.commit()
        finished = time.perf_counter()
        rss_after = max_rss_mb()
        charges = env["prepaid.charge"].search_count([("reading_id", "in", result["created"].ids)])

    count = len(result["created"])
    if result["rejected"] or count != len(rows):
        print(f"warning: {len(result['rejected'])} rejected, e.g. {result['rejected'][:1]}")
    rate = count / (finished - started)
    print(f"cycle at {when} (UTC): {count} readings, {charges} charges")
    print(
        f"ingest {ingested - started:.2f} s, price + post {priced - ingested:.2f} s"
        f" (of which prepaid.account._post_ledger_lines {sum(money_side):.2f} s),"
        f" commit {finished - priced:.2f} s; total {finished - started:.2f} s"
    )
    print(f"ingest+bill: {rate:.0f} readings/s (target >= {TARGET_RATE} readings/s)")
    print(f"memory growth: {rss_after - rss_before:.1f} MB (target <= {TARGET_MEMORY_MB} MB)")
    return 0 if rate >= TARGET_RATE and rss_after - rss_before <= TARGET_MEMORY_MB else 1


if __name__ == "__main__":
    sys.exit(main())
