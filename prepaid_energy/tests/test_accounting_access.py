"""Accountants of Odoo Community see the app and read the wallets; they change nothing."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, new_test_user, tagged

from .test_money_common import MoneyCase


@tagged("post_install", "-at_install")
class TestAccountingAccess(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the two groups Community gives accountants: Invoicing, and its Administrator
        cls.accountants = [
            new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=cls.company.id,
                company_ids=[Command.set(cls.company.ids)],
            )
            for login, groups in (
                ("pe_invoicing_admin", "account.group_account_manager"),
                ("pe_invoicing_user", "account.group_account_invoice"),
            )
        ]

    def _menu_ids(self, user):
        return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_accountants_see_the_menus_and_read_the_money(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account(first_recharge_amount=100.0, journal_id=self.cash_journal)
        with freeze_time("2025-03-04 08:00:00"):
            self.env["prepaid.reading"]._ingest(
                [{"meter_id": self.meter.id, "timestamp": "2025-03-04 08:00:00", "total": "1020"}]
            )
            self.env["prepaid.meter"].sudo()._cron_price_readings()
        charge = account.ledger_line_ids.charge_ids
        self.assertTrue(charge)
        for user in self.accountants:
            with self.subTest(user=user.login):
                self.assertFalse(user.has_group("prepaid_energy.group_prepaid_cashier"))
                self.assertFalse(user.has_group("account.group_account_readonly"))
                visible = self._menu_ids(user)
                for xmlid in (
                    "prepaid_energy.menu_prepaid_root",
                    "prepaid_energy.menu_prepaid_account",
                    "prepaid_energy.menu_prepaid_recharge",
                    "prepaid_energy.menu_prepaid_ledger_line",
                    "prepaid_energy.menu_prepaid_charge",
                    "prepaid_energy.menu_prepaid_integrity_report",
                ):
                    self.assertIn(self.env.ref(xmlid).id, visible, xmlid)
                # the account's form opens and shows what the wallet holds
                form = Form(account.with_user(user))
                self.assertAlmostEqual(form.balance, 90.0)  # 100 - 20 kWh x 0.50
                env = self.env(user=user)
                self.assertEqual(
                    env["prepaid.ledger.line"].search([("account_id", "=", account.id)]),
                    account.ledger_line_ids,
                )
                self.assertEqual(env["prepaid.recharge"].search([]), account.recharge_ids)
                self.assertRecordValues(charge.with_user(user), [{"amount": 10.0}])
                self.assertRecordValues(
                    env["prepaid.integrity.report"].search([("partner_id", "=", self.tenant.id)]),
                    [{"wallet_balance": 90.0, "difference": 0.0}],
                )

    def test_accountants_cannot_change_the_wallets(self):
        account = self._open_account(first_recharge_amount=100.0, journal_id=self.cash_journal)
        for user in self.accountants:
            with self.subTest(user=user.login):
                env = self.env(user=user)
                with self.assertRaises(AccessError):
                    account.with_env(env).write({"credit_limit": 500.0})
                with self.assertRaises(AccessError):
                    account.recharge_ids.with_env(env).write({"reason": "changed"})
                with self.assertRaises(AccessError):
                    env["prepaid.recharge.wizard"].create(
                        {
                            "account_id": account.id,
                            "operation": "recharge",
                            "amount": 10.0,
                            "journal_id": self.cash_journal.id,
                        }
                    )
                with self.assertRaises(AccessError):
                    self.tariff.with_env(env).write({"name": "Cheaper"})
                with self.assertRaises(AccessError):
                    self.site.with_env(env).write({"name": "Renamed"})
        self.assertAlmostEqual(account.balance, 100.0)
