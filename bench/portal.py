"""Benchmark of the tenant portal: account page and chart data with a year of readings.

Sets up (once, committed) a tenant company with a portal login and one prepaid
account billing 3 electricity meters on a time-of-use tariff, with one year
of 30-minute readings (3 x 17,520 = 52,560), ingested through
``prepaid.reading._ingest`` and priced a day at a time as the pricing cron
would (charges per band, one consumption ledger line per meter and run).
Then it starts an Odoo HTTP server on the database (or uses ``--url``), logs
in as the tenant and times real HTTP requests: the account page
(``/my/prepaid/accounts/<id>``) and its chart data (the JSON route). Prints
p50 / p95 / max of each against the target p95 <= 300 ms; a figure counts only
when every timed response was complete (status 200, the page with its
balance, the chart with its 30 days and 12 months).

    /opt/odoo18/venv/bin/python bench/portal.py --odoo /opt/odoo18 -d DB \\
        --addons-path /opt/odoo18/odoo/addons,$PWD [--http-port 25010] [--requests 100]

The database must have prepaid_energy_portal installed, e.g.
``odoo-bin -d DB -i prepaid_energy_portal --stop-after-init --without-demo=all``.
"""

import argparse
import datetime
import json
import math
import os
import pathlib
import random
import statistics
import subprocess
import sys
import time

TARGET_P95_MS = 300
SITE_CODE = "PBENCH"
SERIAL_PREFIX = "PBENCH-"
LOGIN = "portal.bench"
METERS = 3
DAYS = 365
SLOT_MINUTES = 30
ROOT = pathlib.Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", required=True, help="Odoo 18 source directory (has odoo-bin)")
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--http-port", type=int, default=25010)
    parser.add_argument("--url", help="a running Odoo serving the database (default: start one)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per route")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--db_host")
    parser.add_argument("--db_port")
    return parser.parse_args()


def bootstrap_odoo(args):
    sys.path.insert(0, args.odoo)
    import odoo

    options = ["-d", args.database, f"--addons-path={args.addons_path}"]
    options += [f"--db_host={args.db_host}"] if args.db_host else []
    options += [f"--db_port={args.db_port}"] if args.db_port else []
    odoo.tools.config.parse_config(options)
    return odoo, odoo.modules.registry.Registry(args.database)


# --------------------------------------------------------------------------- set-up


def ensure_tariff(env, Command):
    Tariff = env["prepaid.tariff"]
    tariff = Tariff.search([("code", "=", "PBENCH-TOU")], limit=1)
    if tariff:
        return tariff

    def period(day_type, start, end, band):
        return Command.create(
            {"day_type": day_type, "hour_from": start, "hour_to": end, "band": band}
        )

    return Tariff.create(
        {
            "name": "Portal bench TOU",
            "code": "PBENCH-TOU",
            "version_ids": [
                Command.create(
                    {
                        "date_from": "2020-01-01",
                        "kind": "tou",
                        "period_ids": [
                            period("workday", 0, 8, "valley"),
                            period("workday", 8, 11, "peak"),
                            period("workday", 11, 17, "flat"),
                            period("workday", 17, 19, "peak"),
                            period("workday", 19, 21, "sharp"),
                            period("workday", 21, 24, "flat"),
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
                    }
                )
            ],
        }
    )


def ensure_tenant(env, Command, start):
    """Site, unit, tenant company, portal login, account and its meters (once)."""
    Location = env["prepaid.location"]
    site = Location.search([("code", "=", SITE_CODE), ("location_type", "=", "site")], limit=1)
    if site:
        account = env["prepaid.account"].search([("unit_id.site_id", "=", site.id)], limit=1)
        return account, False
    site = Location.create(
        {
            "name": "Portal bench park",
            "code": SITE_CODE,
            "location_type": "site",
            "tz": "Asia/Shanghai",
            "reading_interval": SLOT_MINUTES,
            "alarm1_amount": 50,
            "alarm2_amount": 20,
            "arrears_amount": 0,
            "default_tariff_id": ensure_tariff(env, Command).id,
        }
    )
    unit = Location.create({"name": "B-101", "location_type": "unit", "parent_id": site.id})
    tenant = env["res.partner"].create({"name": "Portal Bench Trading", "is_company": True})
    user = env["res.users"].create(
        {
            "name": "Bench Tenant",
            "login": LOGIN,
            "password": LOGIN,
            "email": "portal.bench@example.com",
            "groups_id": [Command.set([env.ref("base.group_portal").id])],
        }
    )
    user.partner_id.parent_id = tenant
    tenant.prepaid_main_contact_id = user.partner_id
    account = env["prepaid.account"].create({"partner_id": tenant.id, "unit_id": unit.id})
    account.write({"state": "open", "date_open": start})
    Reading = env["prepaid.reading"]
    for number in range(1, METERS + 1):
        meter = env["prepaid.meter"].create(
            {"serial": f"{SERIAL_PREFIX}{number}", "unit_id": unit.id, "account_id": account.id}
        )
        first = Reading._ingest(
            [{"meter_id": meter.id, "timestamp": start, "total": 1000 * number}], strict=True
        )["created"]
        meter._open_on_account(account, first)
    account._post_ledger_lines(
        [{"account_id": account.id, "kind": "opening", "amount": 15000, "date": start}]
    )
    return account, True


def cash_recharges(env, account, count=3, amount=100.0):
    journal = env["account.journal"].search(
        [("type", "=", "cash"), ("company_id", "=", account.company_id.id)], limit=1
    )
    if not journal:
        return 0
    for _index in range(count):
        wizard = env["prepaid.recharge.wizard"].create(
            {
                "account_id": account.id,
                "operation": "recharge",
                "amount": amount,
                "journal_id": journal.id,
            }
        )
        wizard.action_confirm()
    return count


def load_year(env, account, start, rng):
    """One year of 30-minute readings per meter, ingested and priced a day at a time."""
    meters = account.meter_ids.sorted("serial")
    totals = {meter.id: meter.last_total for meter in meters}
    slots_a_day = 24 * 60 // SLOT_MINUTES
    created = 0
    for day in range(DAYS):
        rows = []
        for slot in range(1, slots_a_day + 1):
            moment = start + datetime.timedelta(minutes=SLOT_MINUTES * (day * slots_a_day + slot))
            hour = (moment.hour + 8) % 24  # site clock: Shanghai
            base = 0.45 if 8 <= hour < 22 else 0.15
            for meter in meters:
                totals[meter.id] = round(totals[meter.id] + base * rng.uniform(0.5, 1.5), 3)
                rows.append({"meter_id": meter.id, "timestamp": moment, "total": totals[meter.id]})
        result = env["prepaid.reading"]._ingest(rows)
        if result["rejected"]:
            raise SystemExit(f"readings refused on day {day}: {result['rejected'][:3]}")
        created += len(result["created"])
        meters._price_new_readings()
        if day % 30 == 29:
            env.cr.commit()
            print(f"  {created} readings stored ({day + 1} days)", flush=True)
    env.cr.commit()
    return created


# --------------------------------------------------------------------------- timing


def start_server(args):
    """An Odoo serving the database on --http-port; returns the process."""
    env = dict(os.environ, PYTHONPATH=f"{ROOT}:{os.environ.get('PYTHONPATH', '')}")
    command = [
        sys.executable,
        str(pathlib.Path(args.odoo) / "odoo-bin"),
        "-d",
        args.database,
        f"--addons-path={args.addons_path}",
        f"--http-port={args.http_port}",
        f"--gevent-port={args.http_port + 1}",
        f"--db-filter=^{args.database}$",
        "--max-cron-threads=0",
        "--log-level=warn",
    ]
    command += [f"--db_host={args.db_host}"] if args.db_host else []
    command += [f"--db_port={args.db_port}"] if args.db_port else []
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def wait_ready(requests, url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/web/login", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit(f"no Odoo answered at {url} within {timeout} s")


def login(requests, url, database):
    session = requests.Session()
    response = session.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": database, "login": LOGIN, "password": LOGIN}},
        timeout=30,
    )
    result = response.json().get("result")
    if not result or not result.get("uid"):
        raise SystemExit(f"cannot log in as {LOGIN}: {response.text[:300]}")
    return session


def page_ok(response, account_name):
    return (
        response.status_code == 200
        and account_name in response.text
        and "o_prepaid_balance" in response.text
        and "o_prepaid_usage_chart" in response.text
    )


def chart_ok(response):
    if response.status_code != 200:
        return False
    result = response.json().get("result") or {}
    return (
        len(result.get("daily", {}).get("usage", [])) == 30
        and len(result.get("monthly", {}).get("usage", [])) == 12
        and sum(result["monthly"]["usage"]) > 0
        and len(result.get("bands", {}).get("labels", [])) == 4
    )


def time_requests(call, check, count, warmup):
    for _index in range(warmup):
        call()
    timings, complete = [], True
    for _index in range(count):
        started = time.perf_counter()
        response = call()
        timings.append((time.perf_counter() - started) * 1000)
        complete = complete and check(response)
    return timings, complete


def p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def report(name, timings, complete):
    figure = p95(timings)
    verdict = "met" if complete and figure <= TARGET_P95_MS else "NOT met"
    if not complete:
        verdict += " (incomplete responses: figure not counted)"
    print(
        f"{name}: p50 {statistics.median(timings):.0f} ms, p95 {figure:.0f} ms, "
        f"max {max(timings):.0f} ms over {len(timings)} requests "
        f"(target p95 <= {TARGET_P95_MS} ms: {verdict})"
    )
    return complete and figure <= TARGET_P95_MS


def main():
    args = parse_args()
    _odoo, registry = bootstrap_odoo(args)
    import requests
    from odoo import SUPERUSER_ID, Command, api

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    start = (now - datetime.timedelta(days=DAYS, hours=1)).replace(
        minute=0, second=0, microsecond=0
    )
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account, created = ensure_tenant(env, Command, start)
        cr.commit()
        if created:
            print(f"loading {METERS} meters x {DAYS} days of {SLOT_MINUTES}-minute readings...")
            began = time.perf_counter()
            stored = load_year(env, account, start, random.Random(20261))
            cash_recharges(env, account)
            cr.commit()
            print(f"  {stored} readings ingested and priced in {time.perf_counter() - began:.0f} s")
        readings = env["prepaid.reading"].search_count([("account_id", "=", account.id)])
        charges = env["prepaid.charge"].search_count([("account_id", "=", account.id)])
        account_id, account_name = account.id, account.name
    print(f"account {account_name}: {METERS} meters, {readings} readings, {charges} charges")

    server = None
    url = args.url
    if not url:
        url = f"http://127.0.0.1:{args.http_port}"
        server = start_server(args)
    try:
        wait_ready(requests, url)
        session = login(requests, url, args.database)
        page_url = f"{url}/my/prepaid/accounts/{account_id}"
        chart_url = f"{page_url}/usage"
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {}}
        page, page_complete = time_requests(
            lambda: session.get(page_url, timeout=30),
            lambda response: page_ok(response, account_name),
            args.requests,
            args.warmup,
        )
        chart, chart_complete = time_requests(
            lambda: session.post(
                chart_url,
                data=json.dumps(payload),
                timeout=30,
                headers={"Content-Type": "application/json"},
            ),
            chart_ok,
            args.requests,
            args.warmup,
        )
    finally:
        if server:
            server.terminate()
            server.wait(30)
    met = report("account page", page, page_complete)
    met = report("chart data", chart, chart_complete) and met
    print(f"portal target {'met' if met else 'NOT met'} (machine shared: timings are noisy)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
