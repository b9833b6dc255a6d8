import calendar
import datetime

from odoo.tests import TransactionCase, tagged

from prepaid_energy_core import demo


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    """The demo the install built: what a visitor of `make run` meets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.site = cls.env["prepaid.location"].search([("name", "=", demo.SITE_NAME)])
        cls.units = cls.env["prepaid.location"].search(
            [("location_type", "=", "unit"), ("site_id", "=", cls.site.id)]
        )
        cls.meters = cls.env["prepaid.meter"].search(
            [("serial", "in", [meter["serial"] for meter in demo.meters()])]
        )
        cls.accounts = cls.env["prepaid.account"].search([("unit_id", "in", cls.units.ids)])

    def test_counts(self):
        self.assertEqual(len(self.site), 1)
        self.assertEqual(len(self.units), 40)
        self.assertEqual(len(self.meters), len(demo.meters()))
        rented = {code for tenant in demo.tenants() for code in tenant["units"]}
        self.assertEqual(len(self.accounts), len(rented))
        self.assertEqual(set(self.accounts.mapped("state")), {"open"})
        readings = self.env["prepaid.reading"].search_count([("meter_id", "in", self.meters.ids)])
        # three months at one reading every STEP_HOURS, per meter
        per_meter = 90 * 24 // demo.STEP_HOURS
        self.assertGreater(readings, len(self.meters) * per_meter)
        self.assertLess(readings, len(self.meters) * (per_meter + 30 * 24 // demo.STEP_HOURS))

    def test_balances_match_ledgers_and_books(self):
        for account in self.accounts:
            self.assertAlmostEqual(
                account.balance, sum(account.ledger_line_ids.mapped("amount")), 2, account.name
            )
        report = self.env["prepaid.integrity.report"].search(
            [("partner_id", "in", self.accounts.partner_id.ids)]
        )
        self.assertTrue(report)
        self.assertEqual(report.filtered(lambda row: abs(row.difference) >= 0.005).ids, [])

    def test_money_story(self):
        recharges = self.env["prepaid.recharge"].search([("account_id", "in", self.accounts.ids)])
        self.assertEqual(set(recharges.mapped("state")), {"done"})
        self.assertEqual(set(recharges.mapped("operation")), {"recharge", "refund", "reversal"})
        self.assertEqual(len(recharges.journal_id.mapped("type")), 2)
        in_arrears = self.accounts.filtered(lambda account: account.balance < 0)
        self.assertEqual(len(in_arrears), 1)
        # a round top-up that fell short, not three months owed
        self.assertGreater(in_arrears.balance, -100)
        # the cash desk's money booked by the demo cashier, whose name the receipts carry
        cashier = self.env["res.users"].search([("login", "=", "cashier")])
        self.assertEqual(recharges.create_uid, cashier)
        meters = self.accounts.meter_ids
        self.assertFalse(meters.filtered("pricing_error"), "every reading of a billed meter priced")

    def test_simulator_state_and_logins(self):
        state = self.env["ir.config_parameter"].get_param("prepaid_energy_demo.simulator_state")
        self.assertIn('"address"', state)
        for login in ("manager", "cashier", "accountant", "tenant1@demo", "tenant2@demo"):
            self.assertTrue(self.env["res.users"].search([("login", "=", login)]), login)
        tenant = self.env["res.users"].search([("login", "=", "tenant1@demo")])
        self.assertTrue(tenant.has_group("base.group_portal"))

    # ------------------------------------------------------------ billing

    def _span(self):
        """The demo span: its first and last reading."""
        readings = self.env["prepaid.reading"].search(
            [("meter_id", "in", self.meters.ids)], order="timestamp"
        )
        return readings[0].timestamp, readings[-1].timestamp

    def _month_starts(self, first_day, last_day):
        months, day = [first_day], first_day.replace(day=1)
        while True:
            day = (day + datetime.timedelta(days=32)).replace(day=1)
            if day > last_day:
                return months
            months.append(day)

    def test_fees_charged_each_month_for_each_rented_account(self):
        first_day, last_day = demo.span_days(*self._span())
        months = self._month_starts(first_day, last_day)
        self.assertEqual(len(months), 4)  # the first month prorated, the current one in advance
        charges = self.env["prepaid.fee.charge"].search([("account_id", "in", self.accounts.ids)])
        self.assertEqual(len(charges), len(self.accounts) * 2 * len(months))
        for account in self.accounts:
            subscriptions = account.fee_subscription_ids
            self.assertEqual(
                sorted(subscriptions.mapped("fee_type")), ["property", "rent"], account.name
            )
            self.assertEqual(set(subscriptions.mapped("date_start")), {first_day})
            for subscription in subscriptions:
                self.assertEqual(
                    subscription.charge_ids.sorted("date_from").mapped("date_from"), months
                )
                scheme = next(
                    scheme
                    for scheme in demo.fee_schemes()
                    if scheme["name"] == subscription.scheme_id.name
                )
                expected = demo.fee_charges(scheme, account.unit_id.area, first_day, last_day)
                self.assertEqual(
                    subscription.charge_ids.sorted("date_from").mapped("amount"),
                    [float(charge.amount) for charge in expected],
                )
        wallet = charges.filtered(lambda charge: charge.collection == "wallet")
        self.assertEqual(set(wallet.mapped("state")), {"deducted"})
        for charge in wallet:
            line = charge.ledger_line_id
            self.assertIn(line, charge.account_id.ledger_line_ids)
            self.assertEqual((line.kind, line.amount), ("fee", -charge.amount))
        rent = charges - wallet
        self.assertEqual(set(rent.mapped("fee_type")), {"rent"})
        self.assertEqual(set(rent.invoice_id.mapped("state")), {"posted"})
        for charge in rent:
            self.assertEqual(charge.invoice_id.prepaid_fee_account_id, charge.account_id)
            self.assertAlmostEqual(charge.invoice_line_id.price_total, charge.amount, 2)
        # past due rent is paid, but by the tenant in arrears; December's is not due yet
        today = self.accounts[0]._local_today()
        past = rent.filtered(lambda charge: charge.invoice_date_due < today)
        in_arrears = past.filtered(lambda charge: charge.account_id.balance < 0)
        self.assertTrue(in_arrears)
        self.assertEqual(set(in_arrears.mapped("payment_state")), {"not_paid"})
        self.assertEqual(set((past - in_arrears).mapped("state")), {"paid"})
        self.assertEqual(set((rent - past).mapped("state")), {"invoiced"})

    def test_common_areas_apportioned_for_the_last_full_month(self):
        first, last = demo.last_full_month(*self._span())
        runs = self.env["prepaid.apportionment.run"].search([("site_id", "=", self.site.id)])
        self.assertEqual(len(runs), len(demo.BUILDINGS))
        self.assertEqual(set(runs.mapped("state")), {"posted"})
        common = self.meters.filtered(lambda meter: meter.unit_id.location_type == "building")
        self.assertEqual(runs.rule_id.meter_ids, common)
        for run in runs:
            self.assertEqual((run.period_start, run.period_end), (first, last))
            start, end = run._span()
            readings = self.env["prepaid.reading"].search(
                [
                    ("meter_id", "in", run.rule_id.meter_ids.ids),
                    ("timestamp", ">", start),
                    ("timestamp", "<=", end),
                ]
            )
            consumed = sum(readings.mapped("delta"))
            self.assertGreater(consumed, 0)
            self.assertAlmostEqual(run.master_quantity, consumed, 3)
            self.assertAlmostEqual(sum(run.share_ids.mapped("quantity")), consumed, 3)
            self.assertAlmostEqual(run.tenants_amount, run.master_amount, 2)
            building = run.rule_id.scope_id
            self.assertEqual(run.share_ids.unit_id.building_id, building)
            vacant = run.share_ids.filtered("skipped")
            here = self.units.filtered(lambda unit, building=building: unit.building_id == building)
            self.assertEqual(
                set(vacant.unit_id.mapped("name")), set(demo.VACANT) & set(here.mapped("name"))
            )
            for share in run.share_ids - vacant:
                self.assertIn(share.ledger_line_id, share.account_id.ledger_line_ids)
                self.assertEqual(share.ledger_line_id.amount, -share.amount)

    def test_company_tenants_invoiced_for_the_months_over(self):
        start, end = self._span()
        first_day, _last_day = demo.span_days(start, end)
        until = demo.invoice_until(end)
        month_ends = [
            day.replace(day=calendar.monthrange(day.year, day.month)[1])
            for day in self._month_starts(first_day, until - datetime.timedelta(days=1))
        ]
        companies = self.accounts.filtered(lambda account: account.partner_id.is_company)
        self.assertEqual(
            len(companies), sum(len(t["units"]) for t in demo.tenants() if t["is_company"])
        )
        invoices = self.env["account.move"].search(
            [("prepaid_account_id", "in", self.accounts.ids), ("move_type", "=", "out_invoice")]
        )
        self.assertEqual(invoices.prepaid_account_id, companies, "persons are not invoiced yet")
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertEqual(len(invoices), len(companies) * len(month_ends))
        for account in companies:
            mine = invoices.filtered(
                lambda invoice, account=account: invoice.prepaid_account_id == account
            )
            self.assertEqual(sorted(mine.mapped("invoice_date")), month_ends, account.name)
            # everything the wallet paid before this month is on them, to the cent
            self.assertFalse(account._uninvoiced_lines(account._period_start_boundary(until)))
            if account.balance >= 0:
                self.assertEqual(set(mine.mapped("payment_state")), {"paid"}, account.name)
        products = invoices.invoice_line_ids.product_id
        for xmlid in ("product_electricity", "product_property_fee", "product_common_area"):
            self.assertIn(self.env.ref(f"prepaid_energy.{xmlid}"), products)

    def test_books_in_china(self):
        """A fresh database gets the Chinese chart and CNY before the first recharge."""
        company = self.site.company_id
        self.assertEqual(company.chart_template, "cn")
        self.assertEqual(company.currency_id, self.env.ref("base.CNY"))
        self.assertEqual(company.country_id, self.env.ref("base.cn"))
        self.assertEqual(set(self.accounts.currency_id.mapped("name")), {"CNY"})
        # the receipts' letterhead: a logo and an address, not Odoo's placeholders
        self.assertTrue(company.logo)
        self.assertEqual(company.city, "Shanghai")
        self.assertEqual(company.state_id, self.env.ref("base.state_cn_SH"))

    def test_gateways_speak_dlt645_and_tenants_can_pay_online(self):
        gateways = self.meters.gateway_id
        self.assertEqual(len(gateways), 2)
        self.assertEqual(
            gateways.default_profile_id, self.env.ref("prepaid_energy_hw.profile_dlt645")
        )
        # the profile gives the relay commands: without one the demo's relays could not switch
        for meter in self.meters:
            self.assertIn("relay", meter._hw_capabilities(), meter.serial)
            self.assertIn("relay_state", meter._hw_capabilities(), meter.serial)
        provider = self.env["payment.provider"].search(
            [("code", "=", "demo"), ("company_id", "=", self.site.company_id.id)]
        )
        self.assertEqual(provider.state, "test")
        self.assertTrue(provider.is_published)
        line = provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda method: method.payment_provider_id == provider
        )
        self.assertTrue(line.payment_account_id, "online top-ups booked as the tenant's advance")

    def test_no_sms_to_the_made_up_numbers(self):
        tenants = self.accounts.partner_id
        preferences = self.env["prepaid.notification.preference"].search(
            [("partner_id", "in", tenants.ids)]
        )
        self.assertEqual(preferences.partner_id, tenants)
        self.assertEqual(set(preferences.mapped("sms_enabled")), {False})
        self.assertTrue(all(preferences.mapped("email_enabled")))
