"""Take the README's screenshots from a running Odoo with headless Chromium.

Logs in over HTTP (``/web/session/authenticate``) as a staff user and as a
tenant's portal user, hands each session cookie to Chromium, opens each page
through the DevTools protocol, waits until the page has rendered its records
(and fails on an error dialog or an empty view), and writes a PNG per page to
the output directory. The printed recharge receipt is fetched as PDF with the
staff session and rendered with ``pdftoppm``.

It needs ``websocket-client`` (Odoo's own interpreter has it; Pillow too, used
to shrink a PNG above ``--max-kb``), Chromium and poppler's ``pdftoppm``::

    /opt/odoo18/venv/bin/python scripts/screenshots.py --url http://localhost:8069 \\
        -d prepaid_demo --staff manager:manager --tenant tenant1:tenant1 [--only portal]

Records are found by search (the building with the most meters, the open
account with the most ledger lines, the latest posted recharge, the tenant's
first account); ``--account``, ``--recharge`` and ``--building`` pick others.
"""

import argparse
import base64
import http.cookiejar
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

BACKEND = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
# An iPhone 12-14 sized screen; scale 2 keeps the text sharp at about 780 x 1688 pixels.
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

# True once Odoo's web client (or a portal page) has finished loading: no
# loading indicator, no blocked UI, and the wanted element present.
READY_JS = """(() => {
    if (document.readyState !== 'complete') return 'loading';
    const err = document.querySelector(
        '.o_error_dialog, .o_dialog_error, .o_notification.border-danger');
    if (err) return 'error: ' + err.innerText.slice(0, 300);
    if (document.querySelector('.o_loading_indicator, .o_blockUI')) return 'busy';
    // Odoo draws sample data behind "No data to display": a picture of nothing
    if (document.querySelector('.o_view_sample_data, .o_view_nocontent'))
        return 'error: the view is empty (no records to show)';
    if (!document.querySelector(%s)) return 'waiting';
    return 'ready';
})()"""


class Odoo:
    """A logged-in HTTP session on an Odoo database (stdlib only)."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        result = self.jsonrpc(
            "/web/session/authenticate", {"db": db, "login": login, "password": password}
        )
        if not result.get("uid"):
            raise SystemExit(f"login refused for {login!r} on {db!r}")
        self.uid = result["uid"]
        self.login = login
        self.session_id = next(c.value for c in self.jar if c.name == "session_id")

    def jsonrpc(self, path, params):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(
            self.url + path, body, {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=60) as response:
            reply = json.load(response)
        if reply.get("error"):
            data = reply["error"].get("data") or {}
            raise SystemExit(f"{path}: {data.get('message') or reply['error']}")
        return reply["result"]

    def call(self, model, method, *args, **kwargs):
        return self.jsonrpc(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def get(self, path):
        with self.opener.open(self.url + path, timeout=120) as response:
            return response.headers.get_content_type(), response.read()


class Chromium:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="pe-shots-")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--font-render-hinting=none",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                # Chromium 111+ refuses a DevTools websocket from another origin
                "--remote-allow-origins=*",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        port = self._devtools_port()
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.send("Page.enable")
        self.send("Network.enable")

    def _devtools_port(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if match:
                return int(match.group(1))
            if not line and self.process.poll() is not None:
                break
        raise SystemExit("Chromium did not start (no DevTools port)")

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:  # events arrive in between; keep only our answer
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def use_session(self, odoo):
        self.send("Network.clearBrowserCookies")
        self.send("Network.setCookie", name="session_id", value=odoo.session_id, url=odoo.url)

    def screen(self, metrics):
        self.send("Emulation.setDeviceMetricsOverride", **metrics)
        self.send("Emulation.setTouchEmulationEnabled", enabled=metrics["mobile"])
        self.send("Network.setUserAgentOverride", userAgent=PHONE_UA if metrics["mobile"] else "")

    def open(self, url, selector, timeout=60):
        self.send("Page.navigate", url=url)
        self.wait(selector, timeout)

    def wait(self, selector, timeout=60):
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            time.sleep(0.3)
            state = self.evaluate(READY_JS % json.dumps(selector))
            if state and state.startswith("error"):
                raise SystemExit(f"{self.evaluate('location.href')}: {state}")
            if state == "ready":
                time.sleep(1.5)  # let charts and transitions finish drawing
                return
        raise SystemExit(f"{self.evaluate('location.href')}: not ready ({state}) for {selector}")

    def click(self, selector, text=""):
        """Click the first element matching ``selector`` whose text contains ``text``."""
        found = self.evaluate(
            f"(() => {{ const e = [...document.querySelectorAll({json.dumps(selector)})]"
            f".find(e => e.innerText.includes({json.dumps(text)}));"
            " if (!e) return false; e.click(); return true; })()"
        )
        if not found:
            raise SystemExit(f"nothing to click: {selector} {text!r}")

    def capture(self):
        return base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


def save_png(data, path, max_kb):
    """Write the PNG; above ``max_kb``, reduce it to a 256-colour palette (Pillow)."""
    if len(data) > max_kb * 1024:
        try:
            from PIL import Image
        except ImportError:
            pass
        else:
            image = Image.open(io.BytesIO(data)).convert("RGB")
            buffer = io.BytesIO()
            image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
                buffer, "PNG", optimize=True
            )
            data = buffer.getvalue()
    with open(path, "wb") as out:
        out.write(data)
    print(f"{path}: {len(data) // 1024} KB")


# ---------------------------------------------------------------------- the pages


def pick_building(staff, wanted):
    if wanted:
        return wanted
    groups = staff.call(
        "prepaid.meter",
        "read_group",
        [("building_id", "!=", False)],
        ["building_id"],
        ["building_id"],
        orderby="building_id_count desc",
        lazy=True,
    )
    if not groups:
        raise SystemExit("no meter in a building: nothing to show on the room board")
    return groups[0]["building_id"][0]


def pick_account(staff, wanted):
    if wanted:
        return wanted
    groups = staff.call(
        "prepaid.ledger.line",
        "read_group",
        [("account_id.state", "=", "open")],
        ["account_id"],
        ["account_id"],
        orderby="account_id_count desc",
        limit=1,
    )
    if not groups:
        raise SystemExit("no open account with ledger lines")
    return groups[0]["account_id"][0]


def pick_recharge(staff, wanted):
    if wanted:
        return wanted
    ids = staff.call(
        "prepaid.recharge",
        "search",
        [("operation", "=", "recharge"), ("state", "=", "done")],
        order="id desc",
        limit=1,
    )
    if not ids:
        raise SystemExit("no booked recharge: no receipt to print")
    return ids[0]


def shot_room_board(browser, staff, args):
    building = pick_building(staff, args.building)
    # named as the board's side panel names it: within the site
    [record] = staff.call(
        "prepaid.location",
        "read",
        [building],
        ["display_name", "site_id"],
        context={"prepaid_location_within_site": True},
    )
    browser.screen(BACKEND)
    browser.use_session(staff)
    browser.open(
        f"{staff.url}/odoo/action-prepaid_energy_hw.action_prepaid_room_board",
        ".o_kanban_record .o_prepaid_board_tile",
    )
    # the building in the side panel, as staff choose it: the panel shows the
    # locations as a tree, so unfold the building's site first
    section = ".o_search_panel_section:nth-of-type(2) .o_search_panel_label"
    browser.click(f'{section}[data-tooltip="{record["site_id"][1]}"]')
    browser.wait(f'{section}[data-tooltip="{record["display_name"]}"]')
    browser.click(f'{section}[data-tooltip="{record["display_name"]}"]')
    browser.wait(".o_kanban_record .o_prepaid_board_tile")
    return browser.capture()


def shot_account(browser, staff, args):
    account = pick_account(staff, args.account)
    browser.screen(BACKEND)
    browser.use_session(staff)
    browser.open(
        f"{staff.url}/odoo/action-prepaid_energy.action_prepaid_account/{account}",
        ".o_form_view .o_field_widget",
    )
    return browser.capture()


def shot_receipt(browser, staff, args):
    recharge = pick_recharge(staff, args.recharge)
    kind, pdf = staff.get(f"/report/pdf/prepaid_energy.report_prepaid_recharge_receipt/{recharge}")
    if kind != "application/pdf":
        raise SystemExit(f"the receipt came back as {kind}, not PDF (is wkhtmltopdf installed?)")
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "receipt.pdf")
        with open(source, "wb") as out:
            out.write(pdf)
        # 110 dpi: an A4 page about 910 pixels wide, cropped to its text below
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "110",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                source,
                os.path.join(tmp, "page"),
            ],
            check=True,
        )
        with open(os.path.join(tmp, "page.png"), "rb") as page:
            return crop_margins(page.read())


def crop_margins(data, margin=24):
    """The receipt without the blank rest of its A4 page (when Pillow is there)."""
    try:
        from PIL import Image, ImageOps
    except ImportError:
        return data
    image = Image.open(io.BytesIO(data)).convert("RGB")
    box = ImageOps.invert(image).getbbox()
    if not box:
        return data
    left, top, right, bottom = box
    image = image.crop(
        (
            max(left - margin, 0),
            max(top - margin, 0),
            min(right + margin, image.width),
            min(bottom + margin, image.height),
        )
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def shot_integrity(browser, staff, args):
    browser.screen(BACKEND)
    browser.use_session(staff)
    browser.open(
        f"{staff.url}/odoo/action-prepaid_energy.action_prepaid_integrity_report",
        ".o_list_view .o_data_row",
    )
    return browser.capture()


def shot_income(browser, staff, args):
    browser.screen(BACKEND)
    browser.use_session(staff)
    browser.open(
        f"{staff.url}/odoo/action-prepaid_energy.action_prepaid_income_report",
        ".o_pivot table .o_pivot_cell_value",
    )
    return browser.capture()


def shot_portal(browser, tenant, args):
    accounts = tenant.call("prepaid.account", "search", [], order="id", limit=1)
    if not accounts:
        raise SystemExit(f"{tenant.login} sees no prepaid account")
    browser.screen(PHONE)
    browser.use_session(tenant)
    browser.open(f"{tenant.url}/my/prepaid/accounts/{accounts[0]}", "canvas")
    return browser.capture()


SHOTS = {
    # name: (function, who, file)
    "room-board": (shot_room_board, "staff", "room-board.png"),
    "account": (shot_account, "staff", "account.png"),
    "receipt": (shot_receipt, "staff", "receipt.png"),
    "integrity": (shot_integrity, "staff", "report-integrity.png"),
    "income": (shot_income, "staff", "report-income.png"),
    "portal": (shot_portal, "tenant", "portal-phone.png"),
}


def credentials(value):
    login, sep, password = value.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("give LOGIN:PASSWORD")
    return login, password


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--staff", type=credentials, default=("manager", "manager"))
    parser.add_argument("--tenant", type=credentials, default=("tenant1", "tenant1"))
    parser.add_argument("--out", default="docs", help="directory of the PNGs (default docs)")
    parser.add_argument("--only", action="append", choices=sorted(SHOTS))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--building", type=int, help="id of the room board's building")
    parser.add_argument("--account", type=int, help="id of the account form's account")
    parser.add_argument("--recharge", type=int, help="id of the receipt's recharge")
    parser.add_argument("--max-kb", type=int, default=280, help="shrink PNGs above this size")
    args = parser.parse_args(argv)

    names = args.only or list(SHOTS)
    sessions = {}
    if any(SHOTS[n][1] == "staff" for n in names):
        sessions["staff"] = Odoo(args.url, args.database, *args.staff)
    if any(SHOTS[n][1] == "tenant" for n in names):
        sessions["tenant"] = Odoo(args.url, args.database, *args.tenant)
    os.makedirs(args.out, exist_ok=True)
    browser = Chromium(args.chromium)
    try:
        for name in names:
            function, who, filename = SHOTS[name]
            data = function(browser, sessions[who], args)
            save_png(data, os.path.join(args.out, filename), args.max_kb)
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
