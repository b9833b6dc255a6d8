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
        self.assertEqual(len(self.accounts.filtered(lambda account: account.balance < 0)), 1)
        meters = self.accounts.meter_ids
        self.assertFalse(meters.filtered("pricing_error"), "every reading of a billed meter priced")

    def test_simulator_state_and_logins(self):
        state = self.env["ir.config_parameter"].get_param("prepaid_energy_demo.simulator_state")
        self.assertIn('"address"', state)
        for login in ("manager", "cashier", "accountant", "tenant1@demo", "tenant2@demo"):
            self.assertTrue(self.env["res.users"].search([("login", "=", login)]), login)
        tenant = self.env["res.users"].search([("login", "=", "tenant1@demo")])
        self.assertTrue(tenant.has_group("base.group_portal"))
