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
