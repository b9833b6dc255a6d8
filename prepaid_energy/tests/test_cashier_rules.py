"""What a cashier may not do, what waits for a manager, and the receipt."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .test_money_common import MoneyCase


@tagged("post_install", "-at_install")
class TestCashierRules(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "occupancy_id": cls.occupancy.id}
        )
        cls.account.write({"state": "open"})

    def _assert_refused(self, error, pattern, **recharge):
        """The operation fails with ``pattern`` and leaves no payment, entry or line."""
        before = self._money_counts()
        with self.assertRaisesRegex(error, pattern):
            self._recharge(self.account, **recharge)
        self.assertEqual(self._money_counts(), before)

    # ------------------------------------------------------------------ bad input

    def test_bad_amounts_are_refused_and_nothing_is_written(self):
        self._assert_refused(ValidationError, "must be positive", amount=-10.0)
        self._assert_refused(ValidationError, "must be positive", amount=0.0)
        # 1000.00 is the site's cap: 990 + 20 = 1010 is over, at most 10 may be added
        self._recharge(self.account, 990.0)
        self._assert_refused(UserError, r"above the maximum 1000.*at most 10", amount=20.0)
        # exactly the cap is fine
        self._recharge(self.account, 10.0)
        self.assertAlmostEqual(self.account.balance, 1000.0)

    def test_refund_above_the_balance_is_refused(self):
        self._recharge(self.account, 50.0)
        self._assert_refused(UserError, "more than the balance", amount=50.01, operation="refund")
        refund = self._recharge(self.account, 50.0, operation="refund")
        self.assertEqual(refund.state, "done")
        self.assertAlmostEqual(self.account.balance, 0.0)

    def test_closed_or_draft_accounts_take_nothing(self):
        self.account.state = "closed"
        self._assert_refused(UserError, "is not open", amount=10.0)
        self.account.state = "draft"
        self._assert_refused(UserError, "is not open", amount=10.0)
        before = self._money_counts()
        with self.assertRaisesRegex(UserError, "nothing can be posted"):
            self._consume(self.account, 5.0)
        self.assertEqual(self._money_counts(), before)

    def test_a_channel_without_outstanding_account_is_refused(self):
        # A "WeChat Pay" bank journal as staff would add it: its methods book no entry yet.
        wechat = self.env["account.journal"].create(
            {"name": "WeChat Pay", "code": "WCP", "type": "bank", "company_id": self.company.id}
        )
        self.assertFalse(wechat.inbound_payment_method_line_ids.payment_account_id)
        self._assert_refused(
            UserError, "has no outstanding account", amount=10.0, journal_id=wechat.id
        )

    def test_a_new_cash_desk_sells_credit_at_once(self):
        # A cash journal as Odoo creates it has methods without an outstanding
        # account; this module gives them the journal's own cash account as soon
        # as the journal exists (and leaves a bank journal to its statement matching).
        desk = self.env["account.journal"].create(
            {"name": "Desk 2", "code": "CSH2", "type": "cash", "company_id": self.company.id}
        )
        wechat = self.env["account.journal"].create(
            {"name": "WeChat Pay", "code": "WCP2", "type": "bank", "company_id": self.company.id}
        )
        self.assertEqual(
            desk.inbound_payment_method_line_ids.payment_account_id, desk.default_account_id
        )
        self.assertEqual(
            desk.outbound_payment_method_line_ids.payment_account_id, desk.default_account_id
        )
        self.assertFalse(wechat.inbound_payment_method_line_ids.payment_account_id)
        recharge = self._recharge(self.account, 10.0, journal_id=desk.id)
        self.assertIn(desk.default_account_id, recharge.payment_id.move_id.line_ids.account_id)
        # a bank journal turned into a cash desk gets the same
        wechat.write({"type": "cash"})
        self.assertEqual(
            wechat.inbound_payment_method_line_ids.payment_account_id, wechat.default_account_id
        )

    def test_a_channel_defaults_to_a_method_that_books_an_entry(self):
        # A card terminal journal: its first inbound method books nothing; a
        # second one, added with an outstanding account, is what the wizards
        # must offer by default (the open wizard used to take the first).
        card = self.env["account.journal"].create(
            {"name": "Card", "code": "CRD", "type": "bank", "company_id": self.company.id}
        )
        unbooked = card.inbound_payment_method_line_ids[:1]
        self.assertEqual(card._prepaid_payment_method("inbound"), unbooked)
        booked = self.env["account.payment.method.line"].create(
            {
                "name": "Terminal",
                "journal_id": card.id,
                "payment_method_id": unbooked.payment_method_id.id,
                "payment_account_id": self.cash_account.id,
            }
        )
        self.assertEqual(card._prepaid_payment_method("inbound"), booked)
        for wizard_model in ("prepaid.recharge.wizard", "prepaid.account.open.wizard"):
            wizard = self.env[wizard_model].new({"journal_id": card.id})
            self.assertEqual(wizard.payment_method_line_id, booked, wizard_model)

    def test_the_install_hook_set_up_the_existing_cash_desks(self):
        # the test user works in its own company: look at the main one as the system
        installed = (
            self.env["account.journal"]
            .sudo()
            .search(
                [("type", "=", "cash"), ("company_id", "=", self.env.ref("base.main_company").id)]
            )
        )
        self.assertTrue(installed, "the main company has a cash journal")
        methods = (
            installed.inbound_payment_method_line_ids | installed.outbound_payment_method_line_ids
        )
        self.assertTrue(all(methods.mapped("payment_account_id")))

    @mute_logger("odoo.sql_db")
    def test_a_channel_reference_credits_once(self):
        self._recharge(self.account, 10.0, external_reference="TXN-42")
        before = self._money_counts()
        with self.assertRaises(IntegrityError):
            self._recharge(self.account, 10.0, external_reference="TXN-42")
        self.assertEqual(self._money_counts(), before)
        self.assertAlmostEqual(self.account.balance, 10.0)

    def test_reversal_must_take_back_what_it_reverses(self):
        recharge = self._recharge(self.account, 40.0)
        other_account = self.env["prepaid.account"].create({"partner_id": self.tenant.id})
        other_account.state = "open"
        before = self._money_counts()
        wizard = (
            self.env["prepaid.recharge.wizard"]
            .with_user(self.cashier)
            .create(
                {
                    "account_id": other_account.id,
                    "operation": "reversal",
                    "reversed_recharge_id": recharge.id,
                }
            )
        )
        with self.assertRaisesRegex(UserError, "only a done recharge or refund of the same"):
            wizard.action_confirm()
        self.assertEqual(self._money_counts(), before)

    # ------------------------------------------------------------------ the ledger

    def test_the_ledger_is_append_only(self):
        self._recharge(self.account, 30.0)
        line = self.account.ledger_line_ids
        for values in (
            {"amount": 300.0},
            {"kind": "adjustment"},
            {"date": "2020-01-01"},
            {"account_id": self.account.id},
        ):
            with self.assertRaisesRegex(UserError, "append-only"):
                line.write(values)
        # not even the superuser may delete a line
        with self.assertRaisesRegex(UserError, "append-only"):
            line.sudo().unlink()
        with self.assertRaisesRegex(UserError, "never created by hand"):
            self.env["prepaid.ledger.line"].create(
                {"account_id": self.account.id, "kind": "adjustment", "amount": 5.0}
            )
        # the label may be clarified; the amount is what it was
        line.description = "Cash at the front desk"
        self.assertAlmostEqual(line.amount, 30.0)
        self.assertAlmostEqual(self.account.balance, 30.0)
        # cashiers have no right to touch it at all
        with self.assertRaises(AccessError):
            line.with_user(self.cashier).write({"description": "x"})
        # a correction is a new line
        self.account._post_ledger_lines(
            [
                {
                    "account_id": self.account.id,
                    "kind": "adjustment",
                    "amount": -2.5,
                    "description": "Goodwill reversed",
                }
            ]
        )
        self.assertAlmostEqual(self.account.balance, 27.5)

    def test_ledger_signs_follow_the_kind(self):
        with self.assertRaisesRegex(ValidationError, "consumption line must be zero or negative"):
            self.account._post_ledger_lines(
                [{"account_id": self.account.id, "kind": "consumption", "amount": 5.0}]
            )
        with self.assertRaisesRegex(ValidationError, "more decimals"):
            self.account._post_ledger_lines(
                [{"account_id": self.account.id, "kind": "consumption", "amount": -1.234}]
            )
        self.assertFalse(self.account.ledger_line_ids)

    # ------------------------------------------------------------------ approvals

    def test_refund_above_the_limit_waits_for_a_manager(self):
        self._recharge(self.account, 500.0)
        before = self._money_counts()
        refund = self._recharge(self.account, 150.0, operation="refund")
        self.assertEqual(refund.state, "to_approve")
        self.assertFalse(refund.payment_id)
        self.assertFalse(refund.ledger_line_ids)
        self.assertAlmostEqual(self.account.balance, 500.0)
        counts = self._money_counts()
        self.assertEqual(counts["account.payment"], before["account.payment"])
        self.assertEqual(counts["prepaid.recharge"], before["prepaid.recharge"] + 1)
        with self.assertRaises(AccessError):
            refund.with_user(self.cashier).action_approve()
        with self.assertRaises(AccessError):
            refund.with_user(self.officer).action_approve()
        refund.with_user(self.manager).action_approve()
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.approved_by_id, self.manager)
        self.assertEqual(refund.payment_id.amount, 150.0)
        self.assertAlmostEqual(self.account.balance, 350.0)

    def test_reversal_above_the_limit_can_be_rejected(self):
        recharge = self._recharge(self.account, 300.0)
        reversal = self._recharge(
            self.account, 300.0, operation="reversal", reversed_recharge_id=recharge.id
        )
        self.assertEqual(reversal.state, "to_approve")
        reversal.with_user(self.manager).action_reject()
        self.assertEqual(reversal.state, "rejected")
        self.assertFalse(reversal.reversal_move_id)
        self.assertFalse(recharge.is_reversed)
        self.assertAlmostEqual(self.account.balance, 300.0)

    def test_a_manager_refunds_above_the_limit_directly(self):
        self._recharge(self.account, 500.0)
        refund = self._recharge(self.account, 150.0, operation="refund", user=self.manager)
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.approved_by_id, self.manager)

    def test_a_booked_payment_cannot_be_reset_behind_the_wallet(self):
        recharge = self._recharge(self.account, 60.0)
        with self.assertRaisesRegex(UserError, "reverse it from the prepaid document"):
            recharge.payment_id.action_draft()
        with self.assertRaisesRegex(UserError, "reverse it from the prepaid document"):
            recharge.payment_id.action_cancel()
        with self.assertRaisesRegex(UserError, "book prepaid wallets and stay posted"):
            recharge.payment_id.move_id.button_draft()
        self.assertEqual(recharge.payment_id.move_id.state, "posted")
        # forced anyway (say, straight in the database): the integrity report shows it
        Report = self.env["prepaid.integrity.report"]
        self.assertFalse(Report.search([("difference", "!=", 0)]))
        recharge.payment_id.move_id.with_context(prepaid_allow_reset=True).button_draft()
        Report.invalidate_model()
        row = Report.search([("difference", "!=", 0)])
        self.assertEqual(row.partner_id, self.tenant)
        self.assertRecordValues(
            row, [{"wallet_balance": 60.0, "advances": 0.0, "difference": 60.0}]
        )

    # ------------------------------------------------------------------ receipt

    def test_receipt_has_three_copies(self):
        recharge = self._recharge(self.account, 88.0, external_reference="POS-7781")
        self.assertTrue(recharge.name.startswith("PR/"))
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "prepaid_energy.action_report_prepaid_recharge_receipt", recharge.ids
        )
        html = html.decode()
        for copy in ("Tenant copy", "Cashier copy", "Accounts copy"):
            self.assertEqual(html.count(copy), 1, copy)
        self.assertEqual(html.count(recharge.name), 3)
        self.assertEqual(html.count("Lotus Trading Ltd"), 3)
        self.assertEqual(html.count("POS-7781"), 3)
        self.assertIn("88.00", html)
        self.assertIn(self.cash_journal.name, html)
        self.assertIn("Recharge receipt", html)
        self.assertNotIn("not a receipt", html)

    # ------------------------------------------------------------------ what a cashier sees

    def test_a_cashier_works_from_the_screens(self):
        """Open the account, the wizard and the recharge as a cashier sees them."""
        env = self.env(user=self.cashier)
        with Form(
            env["prepaid.recharge.wizard"].with_context(default_account_id=self.account.id)
        ) as wizard:
            wizard.journal_id = self.cash_journal.with_env(env)
            wizard.amount = 25.0
            self.assertEqual(wizard.payment_method_line_id, self.cash_in.with_env(env))
        action = wizard.record.action_confirm()
        self.assertEqual(action["report_name"], "prepaid_energy.report_prepaid_recharge_receipt")
        recharge = env["prepaid.recharge"].search([("account_id", "=", self.account.id)])
        self.assertEqual(recharge.user_id, self.cashier)
        account_form = Form(self.account.with_env(env))
        self.assertAlmostEqual(account_form.balance, 25.0)
        self.assertAlmostEqual(account_form.uninvoiced_amount, 0.0)
        recharge_form = Form(recharge)
        self.assertEqual(
            recharge_form.payment_name,
            self.env["prepaid.recharge"].browse(recharge.id).payment_id.name,
        )
        html, _kind = (
            self.env["ir.actions.report"]
            .with_user(self.cashier)
            ._render_qweb_html(
                "prepaid_energy.action_report_prepaid_recharge_receipt", recharge.ids
            )
        )
        self.assertIn(recharge.payment_name, html.decode())
        ledger_form = Form(recharge.ledger_line_ids)
        self.assertAlmostEqual(ledger_form.amount, 25.0)

    def test_a_site_without_warnings_still_knows_arrears(self):
        # No alarm 1/2 set up (0 means off): the wallet goes from normal
        # straight to arrears when 5.00 of consumption meets a 3.00 balance,
        # and the tenant is told once.
        self.site.write({"alarm1_amount": 0.0, "alarm2_amount": 0.0})
        account = self._open_account()
        self._recharge(account, 3.0)
        self.assertEqual(account.alarm_level, "normal")
        before = len(self._alarm_messages(account))
        self._consume(account, 5.0)
        self.assertEqual(account.balance, -2.0)
        self.assertEqual(account.alarm_level, "arrears")
        self.assertTrue(account.in_arrears)
        self.assertEqual(self.meter.state, "arrears")
        self.assertEqual(len(self._alarm_messages(account)), before + 1)
        self._consume(account, 1.0)
        self.assertEqual(len(self._alarm_messages(account)), before + 1)
