"""The demo in a browser, logged in as its documented users (password = login)."""

from odoo.tests import HttpCase, tagged

from prepaid_energy_core import demo


@tagged("post_install", "-at_install")
class TestDemoTours(HttpCase):
    def test_cashier_tops_up_the_tenant_in_arrears_from_the_room_board(self):
        meter = self.env["prepaid.meter"].search([("serial", "=", "EL-A-103")])
        account = meter.account_id
        self.assertLess(account.balance, 0, "the demo's tenant in arrears")
        before = account.balance
        self.start_tour("/odoo", "prepaid_demo_cashier", login="cashier")
        recharge = self.env["prepaid.recharge"].search(
            [("account_id", "=", account.id)], order="id desc", limit=1
        )
        cashier = self.env["res.users"].search([("login", "=", "cashier")])
        self.assertEqual(
            (recharge.amount, recharge.state, recharge.create_uid, recharge.journal_id.type),
            (500.0, "done", cashier, "cash"),
        )
        account.invalidate_recordset()
        self.assertAlmostEqual(account.balance, before + 500, 2)

    def test_tenant_opens_their_account_on_the_portal(self):
        login = demo.PORTAL_LOGINS["T-A01"]
        self.start_tour("/my", "prepaid_demo_tenant", login=login)
