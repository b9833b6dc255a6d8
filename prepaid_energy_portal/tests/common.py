"""Two tenants on one site, each with a portal login, wallets, meters, readings, recharges.

Tenant A ("Lotus Trading Ltd", a company) has one open account billing three
meters (two electricity, one water), three days of hourly readings priced at
0.50 a unit, and a cash recharge; two portal users act for it (Alice, its
main contact, and Albert). Tenant B ("Orchid Foods") has the same kind of
account with one meter and its own portal user (Bella). Figures: the site
warns at 50.00 and 20.00, is in arrears at 0.00 and caps balances at 1000.00
(see prepaid_energy's MoneyCase); the portal offers 50/100/200 and takes 10.00
to 500.00 a top-up.
"""

import datetime
import json
import re

from odoo import Command, fields
from odoo.addons.prepaid_energy.tests.test_money_common import MoneyCase
from odoo.tests import HttpCase, new_test_user
from werkzeug.urls import url_encode

#: hourly readings per meter before "now" (the last is at most an hour old)
HOURS = 72


class PortalCase(MoneyCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.email = "energy@harbour.example.com"
        cls.site.write(
            {
                "portal_topup_presets": "50, 100, 200",
                "portal_topup_min": 10.0,
                "portal_topup_max": 500.0,
            }
        )
        cls.tenant.is_company = True
        cls.unit_b = cls.env["prepaid.location"].create(
            {"name": "102", "location_type": "unit", "parent_id": cls.site.id}
        )
        cls.tenant_b = cls.env["res.partner"].create(
            {
                "name": "Orchid Foods",
                "is_company": True,
                "property_account_receivable_id": cls.receivable.id,
            }
        )
        cls.meter_2 = cls._create_meter("EL-0002", cls.unit)
        cls.meter_water = cls._create_meter("WA-0001", cls.unit, utility="water")
        cls.meter_b = cls._create_meter("EL-0901", cls.unit_b)

        cls.user_a = cls._portal_user("alice", "Alice Lotus", cls.tenant, "+8613800000001")
        cls.user_a2 = cls._portal_user("albert", "Albert Lotus", cls.tenant, "+8613800000002")
        cls.user_b = cls._portal_user("bella", "Bella Orchid", cls.tenant_b, "+8613800000003")
        cls.tenant.prepaid_main_contact_id = cls.user_a.partner_id
        cls.outsider = cls._portal_user("olga", "Olga Nobody", None, "+8613800000009")

        cls.start = cls._now_hour() - datetime.timedelta(hours=HOURS)
        cls.account = cls._open_account_for(
            cls.tenant, cls.unit, cls.meter | cls.meter_2 | cls.meter_water
        )
        cls.account_b = cls._open_account_for(cls.tenant_b, cls.unit_b, cls.meter_b)
        cls.recharge = cls._cash_recharge(cls.account, 300.0)
        cls.recharge_b = cls._cash_recharge(cls.account_b, 200.0)
        cls._read_hourly(cls.meter, 1000.0, 0.5)
        cls._read_hourly(cls.meter_2, 5000.0, 0.25)
        cls._read_hourly(cls.meter_water, 100.0, 0.01)
        cls._read_hourly(cls.meter_b, 2000.0, 0.5)
        # as the pricing cron runs: the system user
        cls.env["prepaid.meter"].sudo()._cron_price_readings()

    # ------------------------------------------------------------------ fixtures

    @classmethod
    def _now_hour(cls):
        return fields.Datetime.now().replace(minute=0, second=0, microsecond=0)

    @classmethod
    def _portal_user(cls, login, name, tenant, mobile):
        user = new_test_user(
            cls.env,
            login=login,
            name=name,
            email=f"{login}@example.com",
            groups="base.group_portal",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        user.partner_id.write({"mobile": mobile, "parent_id": tenant.id if tenant else False})
        return user

    @classmethod
    def _open_account_for(cls, tenant, unit, meters):
        """An open wallet of ``tenant`` billing ``meters`` from their first reading."""
        account = cls.env["prepaid.account"].create({"partner_id": tenant.id, "unit_id": unit.id})
        account.write({"state": "open", "date_open": cls.start - datetime.timedelta(days=1)})
        for meter in meters:
            start = {"electricity": 1000.0, "water": 100.0}[meter.utility]
            if meter == cls.meter_2:
                start = 5000.0
            elif meter == getattr(cls, "meter_b", None):
                start = 2000.0
            meter.account_id = account  # the opening reading is the account's, as the wizard's
            first = cls.env["prepaid.reading"]._ingest(
                [{"meter_id": meter.id, "timestamp": cls.start, "total": start}], strict=True
            )["created"]
            meter._open_on_account(account, first)
        return account

    @classmethod
    def _cash_recharge(cls, account, amount):
        wizard = (
            cls.env["prepaid.recharge.wizard"]
            .with_user(cls.cashier)
            .create(
                {
                    "account_id": account.id,
                    "operation": "recharge",
                    "amount": amount,
                    "journal_id": cls.cash_journal.id,
                }
            )
        )
        wizard.action_confirm()
        return cls.env["prepaid.recharge"].search(
            [("account_id", "=", account.id)], limit=1, order="id desc"
        )

    @classmethod
    def _read_hourly(cls, meter, start, per_hour, hours=HOURS):
        rows = [
            {
                "meter_id": meter.id,
                "timestamp": cls.start + datetime.timedelta(hours=hour),
                "total": round(start + per_hour * hour, 4),
                "source": "import",
            }
            for hour in range(1, hours + 1)
        ]
        result = cls.env["prepaid.reading"]._ingest(rows)
        assert not result["rejected"], result["rejected"]
        return result["created"]

    # ------------------------------------------------------------------ helpers

    def _get(self, url, **params):
        if params:
            url = f"{url}?{url_encode(params)}"
        return self.url_open(url, allow_redirects=False, timeout=60)

    def _post_form(self, url, data, token_from=None):
        """POST ``data`` to ``url`` as the page's form does: with the CSRF token the page
        ``token_from`` carries (None: no token at all)."""
        data = dict(data)
        if token_from:
            data["csrf_token"] = self._form_csrf_token(token_from)
        return self.url_open(url, data=data, allow_redirects=False, timeout=60)

    def _form_csrf_token(self, page_url):
        response = self._get(page_url)
        self.assertEqual(response.status_code, 200, page_url)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        self.assertTrue(match, f"{page_url} has no form with a CSRF token")
        return match.group(1)

    def _json(self, url, params=None):
        """A JSON-RPC call in the current session: ``(result, error)``."""
        response = self.url_open(
            url,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params or {}}),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        body = response.json()
        return body.get("result"), body.get("error")
