import base64
import datetime
import json
import logging
import math
import os

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import file_open

from prepaid_energy_core import demo

_logger = logging.getLogger(__name__)

PARAM_STATE = "prepaid_energy_demo.simulator_state"
#: the holiday file ships inside the addon: the repo's data/ is not on Odoo's addons path
HOLIDAYS_CSV = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "cn_2026.csv")
#: readings ingested per call: large enough to be quick, small enough to keep memory low
BATCH = 2000
LOGO = "prepaid_energy_demo/static/img/harbour_park_logo.png"
#: an opening recharge covers the unit's three months at the dearest price (electricity:
#: sharp band plus the top tier's surcharge) plus a margin; the account at ARREARS_INDEX
#: gets a small one and runs into arrears
DEAREST = {"electricity": 1.45, "water": 4.2}
OPENING_MARGIN = 100.0
ARREARS_INDEX = 2
ARREARS_OPENING = 300.0
USERS = (
    ("manager", "Demo Manager", "prepaid_energy.group_prepaid_manager"),
    ("cashier", "Demo Cashier", "prepaid_energy.group_prepaid_cashier"),
    ("accountant", "Demo Accountant", "account.group_account_manager"),
)


class PrepaidDemoLoader(models.AbstractModel):
    _name = "prepaid.demo.loader"
    _description = "Prepaid energy demo data loader"

    @api.model
    def _load_demo(self, now=None):
        """Build the Harbour Park demo site; ``now`` (naive UTC) ends the readings."""
        now = now or fields.Datetime.now()
        start, end = demo.demo_span(now)
        company = self.env.company
        self._setup_company(company)
        self._setup_journals(company)
        calendar = self._load_holidays(company)
        tariffs = self._create_tariffs(company, calendar)
        site, units = self._create_site(company, tariffs)
        occupancies = self._create_tenants(units, start)
        users = self._create_users(company, occupancies)
        # the cash desk's money is booked by the demo cashier, as on a real site
        cashier = self.with_user(users["cashier"])
        meters = self._create_meters(site, units, tariffs)
        series = self._series(meters, start, end, calendar)
        self._open_accounts(occupancies, meters, series, start, cashier)
        self._ingest_series(meters, series)
        cashier._book_recharges(company)
        self._load_billing(site, occupancies, start, end)
        # last: the fees above come out of the wallets too
        cashier._top_up_short_of_arrears(company)
        state = demo.simulator_state(end, demo.holiday_calendar(self._holiday_rows()), start=start)
        self.env["ir.config_parameter"].sudo().set_param(PARAM_STATE, json.dumps(state))
        _logger.info("prepaid demo loaded: %s meters, span %s .. %s", len(meters), start, end)
        return site

    # ------------------------------------------------------------ company

    @api.model
    def _setup_company(self, company):
        with file_open(LOGO, "rb") as logo:
            company.write(
                {
                    "name": "Harbour Park Property Management",
                    "street": "88 Century Avenue",
                    "city": "Shanghai",
                    "zip": "200120",
                    "phone": "+86 21 5555 0100",
                    "email": "service@harbourpark.example.com",
                    "logo": base64.b64encode(logo.read()),
                }
            )
        if not company.country_id:
            company.write(
                {
                    "country_id": self.env.ref("base.cn").id,
                    "state_id": self.env.ref("base.state_cn_SH").id,
                }
            )
        if not company.chart_template:
            self._load_chart(company)
        cny = self.env.ref("base.CNY")
        # an existing chart keeps its currency unless nothing is booked yet
        if company.currency_id != cny and not self.env["account.move.line"].search_count(
            [("company_id", "=", company.id)], limit=1
        ):
            if not cny.active:
                cny.active = True
            company.currency_id = cny
        self.env.user.tz = demo.SITE_TZ

    @api.model
    def _load_chart(self, company):
        """The Chinese chart of accounts (l10n_cn), which makes CNY the company currency.

        On a fresh database Odoo queues the chart of the localisation just installed
        until every module is loaded (account's ``ir.module.module._register_hook``);
        the demo's recharges need its cash and bank journals now, so the queued load
        runs here, once, instead of after the demo."""
        registry = self.env.registry
        queued = getattr(registry, "_auto_install_template", None)
        if queued:
            del registry._auto_install_template
            queued(self.env)
        if not company.chart_template:
            self.env["account.chart.template"].try_loading("cn", company, install_demo=False)

    @api.model
    def _holiday_rows(self):
        if not os.path.isfile(HOLIDAYS_CSV):
            raise UserError(self.env._("The demo holiday file is missing: %s", HOLIDAYS_CSV))
        with open(HOLIDAYS_CSV, encoding="utf-8") as handle:
            return demo.parse_holidays_csv(handle.read())

    @api.model
    def _load_holidays(self, company):
        return self.env["prepaid.holiday.calendar"].create(
            {
                "name": "Mainland China 2026",
                "company_id": company.id,
                "holiday_ids": [
                    Command.create({"date": day, "kind": kind, "name": name})
                    for day, kind, name in self._holiday_rows()
                ],
            }
        )

    # ------------------------------------------------------------ tariffs

    @api.model
    def _prepare_tou_tariff_vals(self, calendar):
        def period(day_type, hour_from, hour_to, band):
            return Command.create(
                {"day_type": day_type, "hour_from": hour_from, "hour_to": hour_to, "band": band}
            )

        return {
            "name": "Electricity TOU + tiers",
            "code": "DEMO-EL-TOU",
            "cycle_period": "monthly",
            "cycle_start_day": 1,
            "holiday_calendar_id": calendar.id,
            "version_ids": [
                Command.create(
                    {
                        "date_from": "2025-01-01",
                        "kind": "tou",
                        "period_ids": [
                            period("workday", 8, 19, "peak"),
                            period("workday", 19, 21, "sharp"),
                            period("workday", 21, 22, "peak"),
                            period("workday", 22, 8, "valley"),
                            period("weekend", 0, 24, "flat"),
                        ],
                        "price_ids": [
                            Command.create({"band": "sharp", "price": 1.35}),
                            Command.create({"band": "peak", "price": 1.05}),
                            Command.create({"band": "valley", "price": 0.35}),
                            Command.create({"band": "flat", "price": 0.65}),
                        ],
                        "tier_ids": [
                            Command.create({"qty_from": 0, "qty_to": 200, "surcharge": 0}),
                            Command.create({"qty_from": 200, "surcharge": 0.10}),
                        ],
                    }
                )
            ],
        }

    @api.model
    def _create_tariffs(self, company, calendar):
        Tariff = self.env["prepaid.tariff"]
        electricity = Tariff.create(self._prepare_tou_tariff_vals(calendar))
        water = Tariff.create(
            {
                "name": "Water flat",
                "code": "DEMO-WA-FLAT",
                "version_ids": [
                    Command.create({"date_from": "2025-01-01", "kind": "flat", "price": 4.2})
                ],
            }
        )
        return {demo.ELECTRICITY: electricity, demo.WATER: water}

    # ------------------------------------------------------------ site

    @api.model
    def _create_site(self, company, tariffs):
        Location = self.env["prepaid.location"]
        site = Location.create(
            {
                "name": demo.SITE_NAME,
                "location_type": "site",
                "company_id": company.id,
                "tz": demo.SITE_TZ,
                "alarm1_amount": 50.0,
                "alarm2_amount": 20.0,
                "arrears_amount": 0.0,
                "max_balance": 20000.0,
                "refund_approval_amount": 200.0,
                "default_tariff_id": tariffs[demo.ELECTRICITY].id,
            }
        )
        buildings = {
            b["code"]: Location.create(
                {"name": b["name"], "location_type": "building", "parent_id": site.id}
            )
            for b in demo.BUILDINGS
        }
        floors = {}
        units = {}
        for unit in demo.units():
            key = (unit["building"], unit["floor"])
            if key not in floors:
                floors[key] = Location.create(
                    {
                        "name": f"Floor {unit['floor']}",
                        "location_type": "floor",
                        "parent_id": buildings[unit["building"]].id,
                    }
                )
            units[unit["code"]] = Location.create(
                {
                    "name": unit["name"],
                    "location_type": "unit",
                    "parent_id": floors[key].id,
                    "area": unit["area"],
                }
            )
        return site, units

    @api.model
    def _create_tenants(self, units, start):
        occupancies = {}
        for tenant in demo.tenants():
            partner = self.env["res.partner"].create(
                {
                    "name": tenant["name"],
                    "is_company": tenant["is_company"],
                    "ref": tenant["ref"],
                    "email": tenant["email"],
                    "phone": tenant["phone"],
                }
            )
            for code in tenant["units"]:
                occupancy = self.env["prepaid.occupancy"].create(
                    {
                        "partner_id": partner.id,
                        "unit_id": units[code].id,
                        "date_from": start.date() - datetime.timedelta(days=30),
                    }
                )
                occupancy.action_activate()
                occupancies[code] = (tenant, occupancy)
        # the demo's phone numbers are made up, and may be someone's: no SMS leaves a
        # demo database (e-mails go to example.com, a reserved domain)
        partners = self.env["res.partner"].browse(
            sorted({occupancy.partner_id.id for _tenant, occupancy in occupancies.values()})
        )
        self.env["prepaid.notification.preference"].create(
            [{"partner_id": partner.id, "sms_enabled": False} for partner in partners]
        )
        return occupancies

    @api.model
    def _create_meters(self, site, units, tariffs):
        host = os.environ.get("PREPAID_DEMO_GATEWAY_HOST", "127.0.0.1")
        profile = self.env.ref("prepaid_energy_hw.profile_dlt645")
        gateways = [
            self.env["prepaid.gateway"].create(
                {
                    "name": f"Gateway {building['code']}",
                    "site_id": site.id,
                    "transport": "tcp",
                    "protocol": demo.PROTOCOL,
                    "host": host,
                    "port": demo.PORT_BASE + index,
                    # DL/T 645-2007 meters: energy, relay control and status words
                    "default_profile_id": profile.id,
                }
            )
            for index, building in enumerate(demo.BUILDINGS)
        ]
        buildings = {
            b.name: b for b in site.child_ids.filtered(lambda c: c.location_type == "building")
        }
        meters = {}
        for meter in demo.meters():
            if meter["unit"]:
                location = units[meter["unit"]]
            else:
                name = next(b["name"] for b in demo.BUILDINGS if b["code"] == meter["building"])
                location = buildings[name]
            meters[meter["serial"]] = (
                meter,
                self.env["prepaid.meter"].create(
                    {
                        "serial": meter["serial"],
                        "name": meter["name"],
                        "utility": meter["utility"],
                        "unit_id": location.id,
                        "tariff_id": tariffs[meter["utility"]].id,
                        "gateway_id": gateways[meter["gateway"]].id,
                        "bus_address": meter["address"],
                    }
                ),
            )
        return meters

    @api.model
    def _series(self, meters, start, end, calendar):
        holidays = demo.holiday_calendar(self._holiday_rows())
        return {
            serial: demo.register_series(meter, start, end, holidays)
            for serial, (meter, _record) in meters.items()
        }

    # ------------------------------------------------------------ money

    @api.model
    def _open_accounts(self, occupancies, meters, series, start, cashier):
        # each meter's first demo reading, stored before its account opens
        first = self.env["prepaid.reading"]._ingest(
            [
                {
                    "meter_id": record.id,
                    "timestamp": series[serial][0][0],
                    "total": series[serial][0][1],
                }
                | (series[serial][0][2] if meter["utility"] == demo.ELECTRICITY else {})
                for serial, (meter, record) in meters.items()
            ]
        )
        starts = {reading.meter_id.id: reading for reading in first["created"]}
        journal = self.env["account.journal"].search(
            [("company_id", "=", self.env.company.id), ("type", "=", "cash")], limit=1
        )
        for index, (code, (_tenant, occupancy)) in enumerate(occupancies.items()):
            unit_meters = [
                (record, starts[record.id])
                for serial, (meter, record) in meters.items()
                if meter["unit"] == code
            ]
            wizard = self.env["prepaid.account.open.wizard"].create(
                {"partner_id": occupancy.partner_id.id, "occupancy_id": occupancy.id}
            )
            # the meters start from the demo's first reading (stored above), not from now
            wizard.line_ids.unlink()
            action = wizard.action_confirm()
            account = self.env["prepaid.account"].browse(action["res_id"])
            # the account billed from the demo's first reading on
            account.date_open = start
            for record, reading in unit_meters:
                record._open_on_account(account, reading)
            account.sudo()._sync_meter_states()
            cashier._recharge(
                account,
                ARREARS_OPENING
                if index == ARREARS_INDEX
                else self._opening_amount(code, meters, series),
                journal_id=journal.id,
            )

    @api.model
    def _opening_amount(self, code, meters, series):
        cost = sum(
            float(series[serial][-1][1] - series[serial][0][1]) * DEAREST[meter["utility"]]
            for serial, (meter, _record) in meters.items()
            if meter["unit"] == code
        )
        return round(cost + self._billing_allowance(code, meters, series) + OPENING_MARGIN, -1)

    @api.model
    def _ingest_series(self, meters, series):
        rows = []
        for serial, points in series.items():
            record = meters[serial][1]
            for timestamp, total, bands in points[1:]:
                row = {"meter_id": record.id, "timestamp": timestamp, "total": total}
                if meters[serial][0]["utility"] == demo.ELECTRICITY:
                    row.update(bands)
                rows.append(row)
        rows.sort(key=lambda row: row["timestamp"])
        Reading = self.env["prepaid.reading"]
        for index in range(0, len(rows), BATCH):
            result = Reading._ingest(rows[index : index + BATCH], price=True)
            if result["rejected"]:
                _logger.warning("demo readings rejected: %s", result["rejected"][:3])

    @api.model
    def _recharge(self, account, amount, operation="recharge", **values):
        """Book through the cashier's wizard, as the cash desk does."""
        wizard = self.env["prepaid.recharge.wizard"].create(
            {"account_id": account.id, "operation": operation, "amount": amount, **values}
        )
        wizard.action_confirm()
        return self.env["prepaid.recharge"].search(
            [("account_id", "=", account.id)], limit=1, order="id desc"
        )

    @api.model
    def _setup_bank_receipts(self, journal):
        """A demo has no bank statements to match: bank receipts book on the journal's own
        account at once (what the recharge check asks for when none is set)."""
        lines = journal.inbound_payment_method_line_ids | journal.outbound_payment_method_line_ids
        lines.filtered(lambda line: not line.payment_account_id).write(
            {"payment_account_id": journal.default_account_id.id}
        )

    @api.model
    def _setup_online_payment(self, company, journal):
        """The demo payment provider in test mode and published: a tenant tops up on the
        portal with a test card, the payment booked in the bank journal."""
        provider = self.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
        )
        provider.write({"state": "test", "is_published": True, "journal_id": journal.id})

    @api.model
    def _setup_journals(self, company):
        bank = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        self._setup_online_payment(company, bank)
        self._setup_bank_receipts(bank)

    @api.model
    def _book_recharges(self, company):
        """A top-up per wallet (cash and bank) but the one in arrears; one refund and one
        reversal."""
        journals = {
            kind: self.env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", kind)], limit=1
            )
            for kind in ("cash", "bank")
        }
        accounts = self.env["prepaid.account"].search(
            [("company_id", "=", company.id), ("state", "=", "open")], order="id"
        )
        for index, account in enumerate(accounts):
            if index == ARREARS_INDEX:
                continue
            # a later top-up, by cash or by bank transfer
            journal = journals["bank" if index % 2 else "cash"]
            self._recharge(account, 100.0 + 50.0 * (index % 5), journal_id=journal.id)
        refunded, reversed_account = accounts[-1], accounts[-2]
        self._recharge(
            refunded, 50.0, operation="refund", journal_id=journals["cash"].id, reason="Move-out"
        )
        mistake = self._recharge(reversed_account, 100.0, journal_id=journals["bank"].id)
        self._recharge(
            reversed_account,
            100.0,
            operation="reversal",
            reversed_recharge_id=mistake.id,
            reason="Booked on the wrong account",
        )

    @api.model
    def _top_up_short_of_arrears(self, company):
        """The account in arrears got a round top-up that fell short: it stays a little
        below zero (its meter is tripped by the first read cycle) instead of owing the
        whole three months."""
        accounts = self.env["prepaid.account"].search(
            [("company_id", "=", company.id), ("state", "=", "open")], order="id"
        )
        account = accounts[ARREARS_INDEX]
        amount = (math.ceil(-account.balance / 100) - 1) * 100
        if amount > 0:
            journal = self.env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "cash")], limit=1
            )
            self._recharge(account, amount, journal_id=journal.id)

    # ------------------------------------------------------------ users

    @api.model
    def _create_users(self, company, occupancies):
        Users = self.env["res.users"].with_context(no_reset_password=True)
        staff = {}
        for login, name, group in USERS:
            staff[login] = Users.create(
                {
                    "name": name,
                    "login": login,
                    "password": login,
                    "tz": demo.SITE_TZ,
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "groups_id": [
                        Command.link(self.env.ref(group).id),
                        Command.link(self.env.ref("prepaid_energy.group_prepaid_officer").id)
                        if login == "accountant"
                        else Command.link(self.env.ref("base.group_user").id),
                    ],
                }
            )
        portal = self.env.ref("base.group_portal")
        done = set()
        for tenant, occupancy in occupancies.values():
            login = tenant["portal_login"]
            if not login or login in done:
                continue
            done.add(login)
            Users.create(
                {
                    "name": tenant["name"],
                    "login": login,
                    "password": login,
                    "partner_id": occupancy.partner_id.id,
                    "groups_id": [Command.set(portal.ids)],
                }
            )
        return staff
