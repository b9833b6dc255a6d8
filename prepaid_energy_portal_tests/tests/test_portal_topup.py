"""Online top-up through Odoo's payment form, paid with the demo provider, over HTTP.

Each step is the request the tenant's browser makes: the amount page, the
payment form's transaction route, the provider's notification, the status
page's poll that post-processes the transaction.
"""

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import TopupCase


@tagged("post_install", "-at_install")
class TestPortalTopup(TopupCase):
    def setUp(self):
        super().setUp()
        self.authenticate("alice", "alice")
        self.balance_before = self.account.balance

    def _credits(self, account=None):
        return self.env["prepaid.recharge"].search(
            [
                ("account_id", "=", (account or self.account).id),
                ("payment_transaction_id", "!=", False),
            ]
        )

    def test_a_paid_top_up_is_one_recharge_and_one_payment(self):
        values, error = self._create_transaction(self.account, 100)
        self.assertFalse(error)
        tx = self._transaction(values["reference"])
        self.assertEqual(tx.prepaid_account_id, self.account)
        self.assertTrue(tx.reference.startswith(self.account.name))
        self.assertEqual((tx.amount, tx.partner_id), (100.0, self.user_a.partner_id))
        # the landing page is ours, whatever the browser sent
        self.assertEqual(tx.landing_route, f"/my/prepaid/accounts/{self.account.id}?topup=1")
        self.assertFalse(self._credits(), "nothing is credited before the provider says paid")

        cron = self.env.ref("payment.cron_post_process_payment_tx")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        _result, error = self._simulate(tx.reference)
        self.assertFalse(error)
        self.assertEqual(tx.state, "done")
        # credited right after this commit, even if the tenant's browser never polls
        self.assertGreater(Trigger.search_count([("cron_id", "=", cron.id)]), triggers)
        # a duplicate of the notification changes nothing
        _result, error = self._simulate(tx.reference)
        self.assertFalse(error)
        status, error = self._poll()
        self.assertFalse(error)
        self.assertEqual(status["state"], "done")

        recharge = self._credits()
        self.assertEqual(len(recharge), 1)
        self.assertEqual(
            (recharge.state, recharge.amount, recharge.payment_transaction_id),
            ("done", 100.0, tx),
        )
        self.assertEqual(recharge.journal_id, self.provider.journal_id)
        self.assertEqual(recharge.external_reference, tx.reference)
        self.assertEqual(recharge.user_id, self.user_a)
        payment = recharge.payment_id
        self.assertEqual(tx.payment_id, payment)
        self.assertEqual(payment.payment_transaction_id, tx)
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertEqual(payment.partner_id, self.tenant)
        self.assertEqual(payment.move_id.state, "posted")
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )
        self.assertAlmostEqual(self.account.balance, self.balance_before + 100.0)
        line = recharge.ledger_line_ids
        self.assertEqual((line.kind, line.amount, line.payment_id), ("recharge", 100.0, payment))
        told = self.env["prepaid.notification"].search([("recharge_id", "=", recharge.id)])
        self.assertEqual(told.event, "recharge")

        # every later post-processing finds the recharge and books nothing more
        self._poll()
        tx._post_process()  # what the post-processing cron calls, per transaction
        self.assertEqual(len(self._credits()), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )
        self.assertAlmostEqual(self.account.balance, self.balance_before + 100.0)
        # the tenant lands on the account page, which says so
        landing = self._get(tx.landing_route)
        self.assertIn("o_prepaid_topup_done", landing.text)
        self.assertIn(recharge.name, self._get("/my/prepaid/recharges").text)

    def test_the_database_refuses_a_second_recharge_of_one_transaction(self):
        values, _error = self._create_transaction(self.account, 50)
        tx = self._transaction(values["reference"])
        self._simulate(tx.reference)
        self._poll()
        recharge = self._credits()
        # even past the lock and the check, the UNIQUE constraint holds
        with self.assertRaisesRegex(Exception, "payment_transaction_unique"):
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self.env["prepaid.recharge"].sudo().create(
                    {
                        "account_id": self.account.id,
                        "amount": 50.0,
                        "payment_transaction_id": tx.id,
                    }
                )
        self.assertEqual(self._credits(), recharge)

    def test_a_cancelled_or_failed_payment_credits_nothing(self):
        for state in ("cancel", "error"):
            values, _error = self._create_transaction(self.account, 50)
            tx = self._transaction(values["reference"])
            self._simulate(tx.reference, state=state)
            self._poll()
            self.assertEqual(tx.state, state)
            self.assertFalse(tx.payment_id)
        self.assertFalse(self._credits())
        self.assertAlmostEqual(self.account.balance, self.balance_before)

    def test_the_amount_cannot_be_changed_in_the_browser(self):
        context = self._topup_form(self.account, 100)
        _values, error = self._json(
            context["transaction-route"],
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "token_id": None,
                "amount": 1.0,  # the token says 100.00
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/",
                "is_validation": False,
                "access_token": context["access-token"],
            },
        )
        self.assertIn("access token is invalid", error["data"]["message"])
        _values, error = self._create_transaction(self.account, 100, extra_field="x")
        self.assertIn("not whitelisted", error["data"]["message"])
        self.assertFalse(
            self.env["payment.transaction"]
            .sudo()
            .search([("prepaid_account_id", "=", self.account.id)])
        )

    def test_the_cap_is_checked_again_when_the_payment_starts(self):
        context = self._topup_form(self.account, 500)  # 272.64 + 500 is under 1000.00
        self._cash_recharge(self.account, 300.0)  # meanwhile at the desk: 572.64
        _values, error = self._json(
            context["transaction-route"],
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.demo_method.id,
                "token_id": None,
                "amount": 500.0,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/",
                "is_validation": False,
                "access_token": context["access-token"],
            },
        )
        self.assertIn("may not exceed", error["data"]["message"])

    def test_money_already_paid_is_credited_even_past_the_cap(self):
        values, _error = self._create_transaction(self.account, 400)
        tx = self._transaction(values["reference"])
        self._cash_recharge(self.account, 400.0)  # 672.64: 400 more passes 1000.00
        self._simulate(tx.reference)
        self._poll()
        self.assertEqual(len(self._credits()), 1)
        self.assertAlmostEqual(self.account.balance, self.balance_before + 800.0)

    def test_a_closed_account_leaves_the_payment_to_staff(self):
        values, _error = self._create_transaction(self.account, 50)
        tx = self._transaction(values["reference"])
        self.account.sudo().state = "closed"
        self._simulate(tx.reference)
        self._poll()
        self.assertFalse(self._credits())
        self.assertAlmostEqual(self.account.balance, self.balance_before)
        # the money is in the books as the tenant's payment, and staff have a to-do
        self.assertTrue(tx.payment_id)
        self.assertEqual(tx.payment_id.partner_id, self.tenant)
        activity = self.account.activity_ids.filtered(
            lambda a: a.summary == "Online payment not credited"
        )
        self.assertEqual(len(activity), 1)
        self.assertIn(tx.reference, activity.note)

    def test_only_providers_that_can_book_the_payment_are_offered(self):
        self.provider._prepaid_payment_method_line().payment_account_id = False
        page = self._get(f"/my/prepaid/accounts/{self.account.id}/topup", amount="100")
        self.assertNotIn('id="o_payment_form"', page.text)
        self.assertIn("No online payment method is available", page.text)

    def test_a_provider_of_another_company_is_refused(self):
        other = self.setup_other_company()["company"]
        provider_other = self._demo_provider(other)
        context = self._topup_form(self.account, 100)
        _values, error = self._json(
            context["transaction-route"],
            {
                "provider_id": provider_other.id,
                "payment_method_id": self.demo_method.id,
                "token_id": None,
                "amount": 100.0,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": "/",
                "is_validation": False,
                "access_token": context["access-token"],
            },
        )
        self.assertIn("does not collect for this account", error["data"]["message"])

    def test_a_transaction_route_call_needs_a_login(self):
        context = self._topup_form(self.account, 100)
        self.authenticate(None, None)
        _values, error = self._json(
            context["transaction-route"],
            {"amount": 100.0, "access_token": context["access-token"]},
        )
        self.assertTrue(error)
