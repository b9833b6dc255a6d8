"""The end-to-end check's driver (scripts/e2e.sh starts Odoo and the simulator, then this).

Everything goes over HTTP as people and devices do: staff through Odoo's
external API (/jsonrpc as admin), the tenant through the portal with a real
login (CSRF token, session cookie) and Odoo's payment flow with the demo
provider, the relay state through the project's CLI reading the simulated
meter over TCP. Standard library only.

The reading cron is the script's to run: it is deactivated so that Odoo's
scheduler cannot read between a balance and the next (a top-up must raise the
balance by exactly its amount), and the script runs it with the cron's
"Run manually" (method_direct_trigger) after the gateway's "Read now". The
command runner and the payment post-processing stay with Odoo's cron thread,
woken by the triggers the product sets after its commits.
"""

import argparse
import datetime
import html
import http.cookiejar
import itertools
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN = ("admin", "admin")  # a database created with --without-demo keeps these
TENANT_LOGIN, TENANT_PASSWORD = "e2e.tenant@example.com", "e2e-tenant-Pa55"
PRICE = Decimal("1.00")  # a kWh, flat
FIRST_TOPUP, SECOND_TOPUP = Decimal("20.00"), Decimal("100.00")
#: what rounding each band register to 0.01 kWh can make of a flat price's bill
BAND_ROUNDING = Decimal("0.04") * PRICE
#: the site's reading interval: one reading per meter and minute is kept
READING_MINUTES = 1
#: CLI protocol names of the simulator's
CLI_PROTOCOLS = {"modbus-rtu": "modbus", "dlt645": "dlt645"}
PROFILES = {
    "modbus-rtu": "prepaid_energy_hw.profile_generic_modbus",
    "dlt645": "prepaid_energy_hw.profile_dlt645",
}


class Mismatch(Exception):
    """A check failed: the product did not do what a person expects."""


def step(text):
    print(f"e2e: {text}", flush=True)


def check(condition, text, detail=""):
    """Print ``text`` as a passed check, or raise Mismatch with ``detail``."""
    if not condition:
        raise Mismatch(f"{text}: {detail}" if detail else text)
    print(f"e2e: ok   {text}", flush=True)


def wait_for(what, probe, timeout, interval=1.0):
    """Call ``probe`` until it returns a true value; return it, or raise Mismatch."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Mismatch(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


def money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


class RpcError(Exception):
    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name", "")
        super().__init__(data.get("message") or error.get("message") or str(error))


class Browser:
    """A cookie-keeping HTTP client, as a browser is to Odoo."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.ids = itertools.count(1)

    def request(self, path, data=None, headers=None, timeout=120):
        """``(status, final url, body text)``; redirects are followed."""
        request = urllib.request.Request(self.url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode(errors="replace")

    def get(self, path, **params):
        if params:
            path = f"{path}?{urllib.parse.urlencode(params)}"
        return self.request(path)

    def post_form(self, path, fields):
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request(path, body, headers)

    def call(self, path, params=None):
        """A JSON-RPC call to a ``type="json"`` route, as Odoo's ``rpc()`` does."""
        payload = {"jsonrpc": "2.0", "method": "call", "params": params or {}, "id": next(self.ids)}
        status, _url, text = self.request(
            path, json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        if status != 200:
            raise RpcError({"message": f"HTTP {status} from {path}: {text[:300]}"})
        answer = json.loads(text)
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer.get("result")  # Odoo leaves it out for None


class Staff:
    """Odoo's external API as admin: /jsonrpc, one transaction per call."""

    def __init__(self, browser, db, login, password):
        self.browser, self.db, self.password = browser, db, password
        self.uid = browser.call(
            "/jsonrpc",
            {"service": "common", "method": "authenticate", "args": [db, login, password, {}]},
        )
        if not self.uid:
            raise Mismatch(f"{login} cannot log in to {db}")

    def __call__(self, model, method, *args, **kwargs):
        return self.browser.call(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, self.uid, self.password, model, method, list(args), kwargs],
            },
        )

    def read(self, model, record_id, fields):
        return self(model, "read", [record_id], fields)[0]

    def create(self, model, values):
        return self(model, "create", [values])[0]

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        if not rows:
            raise Mismatch(f"no record {xmlid}")
        return rows[0]["res_id"]


class Meter:
    """A simulated meter read over the wire with the project's CLI."""

    def __init__(self, python, protocol, host, port, address):
        self.python, self.protocol, self.address = python, CLI_PROTOCOLS[protocol], address
        self.endpoint = f"{host}:{port}"

    def read(self):
        """The CLI's ``read --json`` values, or None when the meter did not answer."""
        command = [
            self.python,
            "-m",
            "prepaid_energy_core.cli",
            "read",
            "--protocol",
            self.protocol,
            "--tcp",
            self.endpoint,
            "--address",
            self.address,
            "--timeout",
            "2",
            "--json",
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        if done.returncode != 0:
            print(
                f"e2e:      CLI read of {self.address} exited {done.returncode}: "
                f"{(done.stdout + done.stderr).strip()[:200]}",
                flush=True,
            )
            return None
        return json.loads(done.stdout)["values"]

    def wait_relay(self, closed, timeout=90):
        """The meter's values once its relay reads ``closed`` (True) or open (False)."""
        word = "closed" if closed else "open"
        return wait_for(
            f"relay of meter {self.address} {word} on the wire",
            lambda: (values := self.read()) and values["relay_state"] is closed and values,
            timeout,
        )


class Scenario:
    def __init__(self, args):
        self.args = args
        endpoints = self._simulator(args.simulator)
        self.protocol = endpoints["protocol"]
        self.host, self.port = endpoints["host"], endpoints["port"]
        self.addresses = endpoints["addresses"]
        self.meter = Meter(args.python, self.protocol, self.host, self.port, self.addresses[0])
        self.neighbour = Meter(args.python, self.protocol, self.host, self.port, self.addresses[1])
        self.admin_http = Browser(args.url)
        self.tenant_http = Browser(args.url)

    @staticmethod
    def _simulator(path):
        for line in Path(path).read_text().splitlines():
            if line.startswith("{"):
                gateways = json.loads(line)["gateways"]
                if len(gateways) != 1 or len(gateways[0]["addresses"]) < 2:
                    raise Mismatch(f"expected one gateway with two meters, got {line}")
                return gateways[0]
        raise Mismatch(f"the simulator printed no endpoints in {path}")

    def run(self):
        self.start()
        self.set_up()
        self.open_account()
        self.log_in_tenant()
        self.first_top_up()
        self.read_until_arrears()
        self.second_top_up()

    # ------------------------------------------------------------------ staff

    def start(self):
        def health():
            status, _url, _text = self.admin_http.request("/web/health", timeout=5)
            return status == 200

        def answering():
            try:
                return health()
            except OSError:  # not listening yet
                return False

        wait_for("Odoo answers /web/health", answering, timeout=180)
        self.staff = Staff(self.admin_http, self.args.db, *ADMIN)
        check(True, f"Odoo answers on {self.args.url}, admin logged in (uid {self.staff.uid})")
        values = self.meter.read()
        neighbour = self.neighbour.read()
        check(
            values and neighbour and values["relay_state"] and neighbour["relay_state"],
            f"simulator's meters {self.addresses[0]} and {self.addresses[1]} answer the CLI "
            f"on {self.meter.endpoint}, relays closed",
            f"{values} {neighbour}",
        )

    def set_up(self):
        staff = self.staff
        self.read_cron = staff.ref("prepaid_energy_hw.ir_cron_prepaid_read_meters")
        staff("ir.cron", "write", [self.read_cron], {"active": False})
        step("reading cron deactivated: this script runs it (Run manually)")

        company = staff.read("res.users", staff.uid, ["company_id"])["company_id"]
        self.company_id = company[0]
        self._demo_provider()

        tariff = staff.create(
            "prepaid.tariff",
            {
                "name": "E2E flat",
                "code": "E2E-FLAT",
                "version_ids": [
                    (0, 0, {"date_from": "2020-01-01", "kind": "flat", "price": float(PRICE)})
                ],
            },
        )
        self.site = staff.create(
            "prepaid.location",
            {
                "name": "E2E Park",
                "location_type": "site",
                "tz": "UTC",
                "reading_interval": READING_MINUTES,
                "arrears_amount": 0.0,
                "alarm1_amount": 10.0,
                "alarm2_amount": 5.0,
                "default_tariff_id": tariff,
            },
        )
        unit = staff.create(
            "prepaid.location", {"name": "101", "location_type": "unit", "parent_id": self.site}
        )
        vacant = staff.create(
            "prepaid.location", {"name": "102", "location_type": "unit", "parent_id": self.site}
        )
        self.tenant = staff.create("res.partner", {"name": "E2E Lotus Ltd", "is_company": True})
        contact = staff.create(
            "res.partner",
            {"name": "E2E Alice", "parent_id": self.tenant, "email": TENANT_LOGIN},
        )
        portal = staff.ref("base.group_portal")
        staff.create(
            "res.users",
            {
                "login": TENANT_LOGIN,
                "password": TENANT_PASSWORD,
                "partner_id": contact,
                "groups_id": [(6, 0, [portal])],
            },
        )
        self.occupancy = staff.create(
            "prepaid.occupancy",
            {"partner_id": self.tenant, "unit_id": unit, "date_from": "2020-01-01"},
        )
        staff("prepaid.occupancy", "action_activate", [self.occupancy])
        self.gateway = staff.create(
            "prepaid.gateway",
            {
                "name": "E2E gateway",
                "site_id": self.site,
                "protocol": self.protocol,
                "transport": "tcp",
                "host": self.host,
                "port": self.port,
                "default_profile_id": staff.ref(PROFILES[self.protocol]),
            },
        )
        self.meter_id = staff.create(
            "prepaid.meter",
            {
                "name": "Unit 101 electricity",
                "serial": "E2E-0001",
                "unit_id": unit,
                "gateway_id": self.gateway,
                "bus_address": self.addresses[0],
            },
        )
        self.neighbour_id = staff.create(
            "prepaid.meter",
            {
                "name": "Unit 102 electricity",
                "serial": "E2E-0002",
                "unit_id": vacant,
                "gateway_id": self.gateway,
                "bus_address": self.addresses[1],
            },
        )
        check(
            True,
            f"site, units 101 and 102, tenant with portal user {TENANT_LOGIN}, tariff "
            f"{PRICE}/kWh, gateway {self.host}:{self.port} ({self.protocol}), meters at "
            f"{self.addresses[0]} and {self.addresses[1]}",
        )
        cycle = self.read_cycle()
        meter = staff.read(
            "prepaid.meter", self.meter_id, ["hw_online_state", "relay_state", "last_total"]
        )
        check(
            meter["hw_online_state"] == "online" and meter["relay_state"] == "closed",
            f"first read ({cycle}): meter online, relay closed, register {meter['last_total']}",
            str(meter),
        )

    def _demo_provider(self):
        """The demo provider collecting for the company, in test mode and published, its
        payments booked in the bank journal with an outstanding receipts account (what a
        manager sets up, and what prepaid_energy_portal_tests does)."""
        staff = self.staff
        providers = staff(
            "payment.provider",
            "search",
            [("code", "=", "demo"), ("company_id", "=", self.company_id)],
        )
        check(providers, "the demo payment provider is installed for the company")
        provider = self.provider_id = providers[0]
        bank = staff(
            "account.journal",
            "search_read",
            [("company_id", "=", self.company_id), ("type", "=", "bank")],
            ["default_account_id", "inbound_payment_method_line_ids"],
            limit=1,
        )[0]
        staff(
            "payment.provider",
            "write",
            [provider],
            {"state": "test", "is_published": True, "journal_id": bank["id"]},
        )
        lines = staff(
            "account.payment.method.line",
            "search_read",
            [("journal_id", "=", bank["id"]), ("payment_type", "=", "inbound")],
            ["payment_provider_id", "payment_account_id"],
        )
        demo_line = [line for line in lines if (line["payment_provider_id"] or [0])[0] == provider]
        check(demo_line, "the demo provider has its payment method in the bank journal", lines)
        outstanding = next(
            (line["payment_account_id"][0] for line in lines if line["payment_account_id"]),
            bank["default_account_id"][0],
        )
        staff(
            "account.payment.method.line",
            "write",
            [demo_line[0]["id"]],
            {"payment_account_id": outstanding},
        )
        state = staff.read("payment.provider", provider, ["state", "is_published"])
        check(
            state["state"] == "test" and state["is_published"],
            "demo provider enabled (test mode) and published, booking to the bank journal",
            str(state),
        )

    def read_cycle(self):
        """The gateway's "Read now", then the reading cron run by hand; its summary."""
        staff = self.staff
        before = staff.read("prepaid.gateway", self.gateway, ["last_cycle_at"])["last_cycle_at"]
        staff("prepaid.gateway", "action_read_now", [self.gateway])
        staff("ir.cron", "method_direct_trigger", [self.read_cron])
        after = staff.read("prepaid.gateway", self.gateway, ["last_cycle_at", "last_cycle_summary"])
        if after["last_cycle_at"] == before:
            raise Mismatch("the reading cron did not read the gateway")
        return after["last_cycle_summary"]

    def account(self):
        return self.staff.read(
            "prepaid.account", self.account_id, ["name", "state", "balance", "in_arrears"]
        )

    def open_account(self):
        """The account opening wizard, as staff fill it: the occupancy, its unit's meter
        at its last reading (the wizard's default)."""
        staff = self.staff
        meter = staff.read("prepaid.meter", self.meter_id, ["last_total"])
        wizard = staff.create(
            "prepaid.account.open.wizard",
            {
                "partner_id": self.tenant,
                "occupancy_id": self.occupancy,
                "line_ids": [
                    (0, 0, {"meter_id": self.meter_id, "reading_total": meter["last_total"]})
                ],
            },
        )
        action = staff("prepaid.account.open.wizard", "action_confirm", [wizard])
        self.account_id = action["res_id"]
        self.opening_total = Decimal(str(meter["last_total"]))
        account = self.account()
        self.account_name = account["name"]
        billed = staff.read("prepaid.meter", self.meter_id, ["account_id"])["account_id"]
        check(
            account["state"] == "open"
            and money(account["balance"]) == 0
            and billed
            and billed[0] == self.account_id,
            f"account {account['name']} opened with the wizard at register "
            f"{meter['last_total']}, balance {money(account['balance'])}",
            str(account),
        )

    # ------------------------------------------------------------------ tenant

    def log_in_tenant(self):
        http_ = self.tenant_http
        status, _url, page = http_.get("/web/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        check(status == 200 and token, "the login page has its CSRF token", f"HTTP {status}")
        status, url, page = http_.post_form(
            "/web/login",
            {
                "login": TENANT_LOGIN,
                "password": TENANT_PASSWORD,
                "csrf_token": token.group(1),
                "redirect": "",
            },
        )
        landed = urllib.parse.urlparse(url).path
        check(
            status == 200 and landed.startswith("/my"),
            f"tenant logs in at /web/login and lands on {landed}",
            f"HTTP {status} at {url}: {self._page_error(page)}",
        )
        status, url, page = http_.get("/my/prepaid/accounts")
        check(
            status == 200 and self.account_name in page,
            f"the portal lists account {self.account_name}",
            f"HTTP {status} at {url}",
        )

    @staticmethod
    def _page_error(page):
        alert = re.search(r'class="alert alert-danger[^"]*"[^>]*>(.*?)</', page, re.S)
        return html.unescape(alert.group(1)).strip() if alert else "no error shown"

    def top_up(self, amount):
        """Pay ``amount`` on the portal with the demo provider, as the pages' scripts do;
        return the transaction's reference once the status page reports it done."""
        http_ = self.tenant_http
        route = f"/my/prepaid/accounts/{self.account_id}/topup"
        status, _url, page = http_.get(route, amount=str(amount))
        form = re.search(r'<form[^>]+id="o_payment_form"[^>]*>', page)
        check(
            status == 200 and form,
            f"top-up page for {amount} shows the payment form",
            f"HTTP {status}: {self._page_error(page)}",
        )
        context = {
            key: html.unescape(value)
            for key, value in re.findall(r'data-([a-z-]+)="([^"]*)"', form.group(0))
        }
        options = [
            dict(re.findall(r'data-([a-z-]+)="([^"]*)"', radio))
            for radio in re.findall(r'<input[^>]+name="o_payment_radio"[^>]*>', page)
        ]
        demo = [
            option
            for option in options
            if option.get("provider-code") == "demo"
            and option.get("payment-option-type") == "payment_method"
        ]
        check(demo, "the payment form offers the demo provider", str(options))
        csrf = re.search(r'csrf_token: "([^"]+)"', page)
        processing = http_.call(
            context["transaction-route"],
            {
                "provider_id": int(demo[0]["provider-id"]),
                "payment_method_id": int(demo[0]["payment-option-id"]),
                "token_id": None,
                "amount": float(context["amount"]),
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": context["landing-route"],
                "is_validation": False,
                "access_token": context["access-token"],
                "csrf_token": csrf.group(1) if csrf else None,
            },
        )
        reference = processing["reference"]
        check(
            reference.startswith(self.account_name) and processing["provider_code"] == "demo",
            f"transaction {reference} created through {context['transaction-route']}",
            str(processing),
        )
        http_.call(
            "/payment/demo/simulate_payment",
            {"reference": reference, "payment_details": "4242", "simulated_state": "done"},
        )
        status, _url, _page = http_.get("/payment/status")
        check(status == 200, "the demo provider confirms it; the status page shows", str(status))

        def poll():
            try:
                result = http_.call("/payment/status/poll")
            except RpcError as error:  # "retry": the post-processing lost a race, ask again
                print(f"e2e:      status poll: {error}", flush=True)
                return None
            return result if result["state"] == "done" else None

        result = wait_for("the status page reports the payment done", poll, 60, 0.5)
        status, _url, page = http_.get(result["landing_route"])
        check(
            status == 200 and self.account_name in page,
            f"status poll: done; back on {result['landing_route']}",
            f"HTTP {status}",
        )
        return reference

    def paid_top_up(self, amount):
        """A top-up, and the checks on the money: one recharge, the exact amount."""
        before = money(self.account()["balance"])
        reference = self.top_up(amount)
        staff = self.staff
        transaction = staff(
            "payment.transaction",
            "search_read",
            [("reference", "=", reference)],
            ["state", "amount", "prepaid_account_id"],
        )
        recharges = staff(
            "prepaid.recharge",
            "search_read",
            [("payment_transaction_id.reference", "=", reference)],
            ["name", "state", "amount"],
        )
        check(
            len(transaction) == 1
            and transaction[0]["state"] == "done"
            and transaction[0]["prepaid_account_id"][0] == self.account_id
            and len(recharges) == 1
            and recharges[0]["state"] == "done"
            and money(recharges[0]["amount"]) == amount,
            f"one recharge {recharges[0]['name'] if recharges else '?'} of {amount} booked "
            f"for {reference}",
            f"{transaction} {recharges}",
        )
        after = money(self.account()["balance"])
        check(
            after == before + amount,
            f"balance rose by exactly {amount}: {before} -> {after}",
            f"expected {before + amount}",
        )
        return after

    # ------------------------------------------------------------------ scenario

    def first_top_up(self):
        self.paid_top_up(FIRST_TOPUP)
        values = self.meter.wait_relay(closed=True)
        check(True, f"relay of {self.addresses[0]} closed on the wire, register {values['total']}")

    def read_until_arrears(self, timeout=360):
        """Read in every new slot (one reading per minute is kept) until the wallet is in
        arrears; then the trip must reach the tenant's meter and only it."""
        deadline = time.monotonic() + timeout
        start = money(self.account()["balance"])
        while True:
            self._wait_for_next_slot()
            summary = self.read_cycle()
            account = self.account()
            meter = self.staff.read("prepaid.meter", self.meter_id, ["last_total"])
            step(
                f"read cycle ({summary}): register {meter['last_total']}, "
                f"balance {money(account['balance'])}"
            )
            if account["in_arrears"]:
                break
            if time.monotonic() > deadline:
                raise Mismatch(f"not in arrears after {timeout} s of readings: {account}")
        balance = money(account["balance"])
        check(balance <= 0, f"account in arrears: balance {start} -> {balance}")
        # the tariff engine bills the band registers' deltas when a meter has them (the
        # total is informational): each band is rounded on its own, hence the tolerance
        advance = Decimal(str(meter["last_total"])) - self.opening_total
        billed = start - balance  # nothing was billed before the first top-up
        check(
            abs(billed - advance * PRICE) <= BAND_ROUNDING,
            f"billed {billed} for the register's advance of {advance} kWh at {PRICE}/kWh",
            f"expected {money(advance * PRICE)} within {BAND_ROUNDING}",
        )
        values = self.meter.wait_relay(closed=False)
        check(True, f"TRIP: relay of {self.addresses[0]} open on the wire (CLI read)")
        register = values["total"]
        time.sleep(2)
        later = self.meter.read()
        check(
            later and later["total"] == register and Decimal(later["power"]) == 0,
            f"no more energy through the open relay: register stays {register}",
            str(later),
        )
        neighbour = self.neighbour.read()
        check(
            neighbour and neighbour["relay_state"],
            f"the vacant unit's meter {self.addresses[1]} was not tripped",
            str(neighbour),
        )
        self._wait_command("trip", "verified")

    def second_top_up(self):
        balance = self.paid_top_up(SECOND_TOPUP)
        check(balance > 0, f"the wallet is in credit again ({balance})")
        self.meter.wait_relay(closed=True)
        check(True, f"CLOSE: relay of {self.addresses[0]} closed again on the wire (CLI read)")
        self._wait_command("close", "verified", origin="recharge")

    def _wait_command(self, action, state, **domain):
        """Odoo's record of the command agrees with the wire."""
        terms = [("meter_id", "=", self.meter_id), ("action", "=", action)]
        terms += [(name, "=", value) for name, value in domain.items()]

        def done():
            rows = self.staff(
                "prepaid.meter.command", "search_read", terms, ["state", "origin"], order="id desc"
            )
            return rows if rows and rows[0]["state"] == state else None

        rows = wait_for(f"the {action} command {state} in Odoo", done, 30)
        check(True, f"Odoo records the {action} ({rows[0]['origin']}) as {state}")

    def _wait_for_next_slot(self):
        """Sleep into the reading slot after the meter's last reading (site clock: UTC)."""
        last = self.staff.read("prepaid.meter", self.meter_id, ["last_reading_date"])
        when = datetime.datetime.fromisoformat(last["last_reading_date"])
        slot = datetime.timedelta(minutes=READING_MINUTES)
        start = datetime.datetime.min + (when - datetime.datetime.min) // slot * slot + slot
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if start > now:
            time.sleep((start - now).total_seconds() + 0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Odoo's address, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--simulator", required=True, help="file with the simulator's --json line")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the CLI")
    args = parser.parse_args(argv)
    try:
        Scenario(args).run()
    except (Mismatch, RpcError) as error:
        print(f"e2e: FAIL {error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
