"""Each company keeps its own wallets, numbers, channels and report rows."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_money_common import MoneyCase


@tagged("post_install", "-at_install")
class TestMoneyMultiCompany(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_data_2 = cls.setup_other_company()
        cls.company_2 = cls.company_data_2["company"]
        cls.site_2 = cls._create_site(cls.company_2, "Second Park", default_tariff_id=False)
        cls.unit_2 = cls.env["prepaid.location"].create(
            {
                "name": "2-01",
                "location_type": "unit",
                "parent_id": cls.site_2.id,
                "company_id": cls.company_2.id,
            }
        )
        cls.cash_journal_2 = cls.company_data_2["default_journal_cash"]
        (
            cls.cash_journal_2.inbound_payment_method_line_ids
            | cls.cash_journal_2.outbound_payment_method_line_ids
        ).payment_account_id = cls.cash_journal_2.default_account_id
        cls.account_1 = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.unit.id}
        )
        cls.account_2 = (
            cls.env["prepaid.account"]
            .with_company(cls.company_2)
            .create(
                {
                    "partner_id": cls.tenant.id,
                    "unit_id": cls.unit_2.id,
                    "company_id": cls.company_2.id,
                }
            )
        )
        (cls.account_1 | cls.account_2).write({"state": "open"})
        cls.cashier_2 = new_test_user(
            cls.env,
            login="pe_cashier_2",
            groups="prepaid_energy.group_prepaid_cashier",
            company_id=cls.company_2.id,
            company_ids=[Command.set(cls.company_2.ids)],
        )

    def test_wallets_numbers_and_reports_stay_in_their_company(self):
        first = self._recharge(self.account_1, 40.0)
        second = self._recharge(
            self.account_2, 70.0, user=self.cashier_2, journal_id=self.cash_journal_2.id
        )
        self.assertEqual(second.company_id, self.company_2)
        self.assertEqual(second.payment_id.company_id, self.company_2)
        self.assertEqual(second.payment_id.move_id.journal_id, self.cash_journal_2)
        # one recharge sequence per company: company 2 starts its own count
        sequences = self.env["ir.sequence"].sudo().search([("code", "=", "prepaid.recharge")])
        self.assertEqual(sequences.company_id, self.company | self.company_2)
        self.assertTrue(second.name.endswith("/00001"))
        self.assertNotEqual(
            first.payment_id.move_id.journal_id, second.payment_id.move_id.journal_id
        )

        Account = self.env["prepaid.account"]
        self.assertEqual(Account.with_user(self.cashier).search([]), self.account_1)
        self.assertEqual(Account.with_user(self.cashier_2).search([]), self.account_2)
        with self.assertRaises(AccessError):
            self.account_2.with_user(self.cashier).read(["balance"])
        Line = self.env["prepaid.ledger.line"]
        self.assertEqual(Line.with_user(self.cashier_2).search([]).account_id, self.account_2)
        Recharge = self.env["prepaid.recharge"]
        self.assertEqual(Recharge.with_user(self.cashier).search([]), first)

        report = self.env["prepaid.integrity.report"]
        rows = report.with_user(self.officer).search([("partner_id", "=", self.tenant.id)])
        self.assertEqual(rows.company_id, self.company)
        self.assertAlmostEqual(rows.wallet_balance, 40.0)
        all_rows = report.sudo().search([("partner_id", "=", self.tenant.id)])
        self.assertEqual(all_rows.company_id, self.company | self.company_2)
        self.assertEqual(all_rows.mapped("difference"), [0.0, 0.0])

    def test_a_channel_of_another_company_is_refused(self):
        before = self._money_counts()
        self.assertIn(self.company_2, self.env.user.company_ids)
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self._recharge(self.account_2, 10.0, user=self.env.user)
        self.assertEqual(self._money_counts(), before)
        # and a cashier of company 1 cannot even pick company 2's account
        with self.assertRaises(AccessError):
            self._recharge(self.account_2, 10.0)
        self.assertEqual(self._money_counts(), before)

    def test_balances_cannot_move_between_companies(self):
        self._recharge(self.account_1, 40.0)
        with self.assertRaisesRegex(UserError, "within one company"):
            self.account_1._transfer_balance_to(self.account_2, 10.0)
        with self.assertRaisesRegex(UserError, "cannot transfer"):
            other = self.env["prepaid.account"].create({"partner_id": self.tenant.id})
            other.state = "open"
            self.account_1._transfer_balance_to(other, 40.01)
