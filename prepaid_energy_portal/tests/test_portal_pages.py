"""Every tenant page renders for a tenant with several meters, with the right figures."""

import csv
import datetime
import io

from odoo.tests import tagged

from .common import HOURS, PortalCase


@tagged("post_install", "-at_install")
class TestPortalPages(PortalCase):
    def setUp(self):
        super().setUp()
        self.authenticate("alice", "alice")

    def test_home_has_the_prepaid_entries_and_their_counts(self):
        response = self._get("/my")
        self.assertEqual(response.status_code, 200)
        for url in ("/my/prepaid/accounts", "/my/prepaid/meters", "/my/prepaid/recharges"):
            self.assertIn(f'href="{url}"', response.text)
        self.assertIn('href="/my/prepaid/link"', response.text)
        names = [
            "prepaid_account_count",
            "prepaid_settings_count",
            "prepaid_meter_count",
            "prepaid_recharge_count",
        ]
        counters, error = self._json("/my/counters", {"counters": names})
        self.assertFalse(error)
        self.assertEqual(counters, dict(zip(names, (1, 1, 3, 1))))
        # one card per counter: the portal's script shows the first card of each only
        for name in names:
            self.assertEqual(response.text.count(f'data-placeholder_count="{name}"'), 1, name)

    def test_lists_show_the_tenant_records(self):
        accounts = self._get("/my/prepaid/accounts")
        self.assertEqual(accounts.status_code, 200)
        self.assertIn(self.account.name, accounts.text)
        self.assertNotIn(self.account_b.name, accounts.text)
        meters = self._get("/my/prepaid/meters")
        for serial in ("EL-0001", "EL-0002", "WA-0001"):
            self.assertIn(serial, meters.text)
        self.assertNotIn("EL-0901", meters.text)
        recharges = self._get("/my/prepaid/recharges")
        self.assertIn(self.recharge.name, recharges.text)
        self.assertIn(self.recharge.get_portal_url(report_type="pdf").split("?")[0], recharges.text)

    def test_account_page_gives_balance_as_of_run_out_and_supply(self):
        response = self._get(self.account.access_url)
        self.assertEqual(response.status_code, 200)
        page = response.text
        # 300.00 recharged; 72 h x (0.5 + 0.25 kWh + 0.01 m3) x 0.50 = 27.36 consumed
        self.assertAlmostEqual(self.account.balance, 300.0 - HOURS * 0.76 * 0.5, places=2)
        self.assertIn("272.64", page)
        self.assertIn("o_prepaid_as_of", page)
        self.assertIn("o_prepaid_run_out", page)
        for serial in ("EL-0001", "EL-0002", "WA-0001"):
            self.assertIn(serial, page)
        self.assertIn("Power on", page)
        self.assertIn("Valve open", page)
        self.assertIn("o_prepaid_usage_chart", page)
        self.assertIn(f"/my/prepaid/accounts/{self.account.id}/topup", page)

    def test_run_out_projection_follows_recent_spending(self):
        run_out = self.account._portal_run_out()
        # 0.76 units an hour at 0.50: 9.12 a day, priced in one run of 72 hours
        self.assertAlmostEqual(float(run_out.daily_spend), 9.12, places=2)
        self.assertEqual(run_out.days_left, 29)  # 272.64 / 9.12 = 29.9

    def test_run_out_spreads_monthly_fees_over_their_months(self):
        scheme = self.env["prepaid.fee.scheme"].create(
            {
                "name": "Property fee",
                "fee_type": "property",
                "basis": "fixed",
                "amount": 90.0,
                "periodicity": "monthly",
                "collection": "wallet",
                "site_id": self.site.id,
                "company_id": self.site.company_id.id,
            }
        )
        today = self.account._portal_local_today()
        last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        subscription = self.env["prepaid.fee.subscription"].create(
            {"account_id": self.account.id, "scheme_id": scheme.id, "date_start": last_month}
        )
        # last month's and this month's fee, both posted now
        charges = subscription._post_due_charges(until=today)
        self.assertEqual(len(charges), 2)
        self.assertTrue(all(charges.mapped("ledger_line_id")), "deducted from the wallet")
        run_out = self.account._portal_run_out()
        # 9.12 a day metered, plus 90.00 a month: about 3.00 a day (2.90 to 3.22 as the
        # window's days fall in months of 31 to 28 days), not 180.00 within two weeks
        self.assertAlmostEqual(float(run_out.daily_spend), 9.12 + 3.0, delta=0.25)

    def test_usage_json_has_the_four_charts(self):
        data, error = self._json(
            f"/my/prepaid/accounts/{self.account.id}/usage", {"utility": "electricity"}
        )
        self.assertFalse(error)
        self.assertEqual(data["unit"], "kWh")
        self.assertEqual(len(data["daily"]["usage"]), 30)
        self.assertEqual(len(data["monthly"]["usage"]), 12)
        self.assertEqual(len(data["years"]["this_year"]), 12)
        # every electricity kWh read is in the charts, the water meter is not
        self.assertAlmostEqual(sum(data["daily"]["usage"]), HOURS * 0.75, places=3)
        self.assertAlmostEqual(sum(data["monthly"]["usage"]), HOURS * 0.75, places=3)
        self.assertAlmostEqual(sum(data["daily"]["cost"]), HOURS * 0.75 * 0.5, places=2)
        self.assertEqual(data["bands"]["labels"], ["Single rate"])  # flat tariff
        self.assertAlmostEqual(sum(data["bands"]["usage"]), HOURS * 0.75, places=3)
        water, error = self._json(
            f"/my/prepaid/accounts/{self.account.id}/usage", {"meter_id": self.meter_water.id}
        )
        self.assertFalse(error)
        self.assertEqual(water["unit"], "m³")
        self.assertAlmostEqual(sum(water["daily"]["usage"]), HOURS * 0.01, places=3)

    def test_meter_page_readings_and_csv(self):
        response = self._get(f"/my/prepaid/meters/{self.meter.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("EL-0001", response.text)
        self.assertEqual(response.text.count("o_prepaid_reading_row"), 50)  # one page
        second = self._get(f"/my/prepaid/meters/{self.meter.id}/page/2")
        self.assertEqual(second.text.count("o_prepaid_reading_row"), HOURS + 1 - 50)
        csv_response = self._get(f"/my/prepaid/meters/{self.meter.id}/readings.csv")
        self.assertEqual(csv_response.status_code, 200)
        self.assertIn("text/csv", csv_response.headers["Content-Type"])
        rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
        self.assertTrue(rows[0][0].startswith("time (UTC)"))
        self.assertEqual(len(rows), 1 + HOURS + 1)  # header, the start reading, 72 more
        self.assertEqual(float(rows[-1][1]), 1000.0 + 0.5 * HOURS)
        self.assertAlmostEqual(sum(float(row[6]) for row in rows[1:]), 0.5 * HOURS)

    def test_receipt_pdf_and_html_tenant_copy_with_the_portal_code(self):
        # Odoo's test mode serves reports as HTML even when PDF is asked for (unless
        # force_report_rendering): the route's answer is checked as HTML, the same
        # rendering as a real PDF below
        pdf = self._get(f"/my/prepaid/recharges/{self.recharge.id}")
        self.assertEqual(pdf.status_code, 200)
        self.assertEqual(pdf.headers["Content-Type"], "application/pdf")
        html = self._get(f"/my/prepaid/recharges/{self.recharge.id}", report_type="html")
        self.assertEqual(html.status_code, 200)
        for page in (pdf.text, html.text):
            self.assertEqual(page.count("Tenant copy"), 1)
            self.assertNotIn("Cashier copy", page)
            self.assertIn(self.account._portal_code_display(), page)
        report = self.env.ref("prepaid_energy.action_report_prepaid_recharge_receipt")
        content, kind = report.with_context(
            force_report_rendering=True, prepaid_receipt_copies=["tenant"]
        )._render_qweb_pdf(report.report_name, self.recharge.ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(content.startswith(b"%PDF"))

    def test_cashier_prints_three_copies_and_only_the_tenant_one_has_the_code(self):
        report = self.env.ref("prepaid_energy.action_report_prepaid_recharge_receipt")
        html = report._render_qweb_html(report.report_name, self.recharge.ids)[0].decode()
        for copy in ("Tenant copy", "Cashier copy", "Accounts copy"):
            self.assertIn(copy, html)
        self.assertEqual(html.count(self.account._portal_code_display()), 1)

    def test_link_and_notification_pages_render(self):
        link = self._get("/my/prepaid/link")
        self.assertEqual(link.status_code, 200)
        self.assertIn('name="proof"', link.text)
        settings = self._get("/my/prepaid/notifications")
        self.assertEqual(settings.status_code, 200)
        self.assertIn('name="sms_enabled"', settings.text)
        self.assertIn("Albert Lotus", settings.text)  # a colleague may be chosen
        self.assertNotIn("Bella Orchid", settings.text)

    def test_topup_page_offers_presets_and_refuses_out_of_bounds(self):
        page = self._get(f"/my/prepaid/accounts/{self.account.id}/topup")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count('o_prepaid_preset"'), 3)
        too_much = self._get(f"/my/prepaid/accounts/{self.account.id}/topup", amount="600")
        self.assertIn("o_prepaid_topup_error", too_much.text)
        self.assertIn("largest online top-up", too_much.text)
        too_little = self._get(f"/my/prepaid/accounts/{self.account.id}/topup", amount="5")
        self.assertIn("smallest online top-up", too_little.text)
        cap = self._get(f"/my/prepaid/accounts/{self.account.id}/topup", amount="499.99")
        # 272.64 + 499.99 is under the 1000.00 cap; 800 would not be, but it is above the max
        self.assertNotIn("o_prepaid_topup_error", cap.text)
        nonsense = self._get(f"/my/prepaid/accounts/{self.account.id}/topup", amount="12.345")
        self.assertIn("at most 2 decimals", nonsense.text)

    def test_a_second_contact_sees_the_same_tenant(self):
        self.authenticate("albert", "albert")
        self.assertEqual(self._get(self.account.access_url).status_code, 200)

    def test_an_unlinked_user_sees_no_account_and_is_offered_the_link(self):
        self.authenticate("olga", "olga")
        response = self._get("/my/prepaid/accounts")
        self.assertEqual(response.status_code, 200)
        self.assertIn("/my/prepaid/link", response.text)
        self.assertNotIn(self.account.name, response.text)
