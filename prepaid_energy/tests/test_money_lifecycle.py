"""Account life cycle: open with carried balances, add and replace meters, close, credit."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .test_money_common import MoneyCase


@tagged("post_install", "-at_install")
class TestMoneyLifecycle(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter2 = cls._create_meter("EL-0002", cls.unit)
        cls.old_tenant = cls.env["res.partner"].create(
            {"name": "Previous Tenant Co", "property_account_receivable_id": cls.receivable.id}
        )

    def _old_account(self, partner, balance):
        account = self.env["prepaid.account"].create({"partner_id": partner.id})
        account.state = "open"
        self._recharge(account, balance)
        return account

    def _price(self):
        self.env["prepaid.meter"].sudo()._cron_price_readings()  # as the cron user

    def _kinds(self, account):
        return sorted((line.kind, round(line.amount, 2)) for line in account.ledger_line_ids)

    @freeze_time("2025-03-03 08:00:00")
    def test_open_with_carried_balances(self):
        old = self._old_account(self.old_tenant, 80.0)
        account = self._open_account(
            meters=self.meter | self.meter2,
            start=500.0,
            opening_balance=12.5,
            transfer_account_id=old,
            meter_balance=7.25,
            meter_balance_meter_id=self.meter2,
            first_recharge_amount=100.0,
            journal_id=self.bank_journal,
        )
        self.assertEqual(account.meter_ids, self.meter | self.meter2)
        self.assertEqual(self.meter.last_total, 500.0)
        self.assertEqual(account.occupancy_id, self.occupancy)
        self.assertEqual(account.unit_id, self.unit)
        # 12.50 opening + 80.00 from the old account + 7.25 from the old meter + 100.00
        self.assertEqual(
            self._kinds(account),
            [("opening", 12.5), ("recharge", 100.0), ("transfer_in", 7.25), ("transfer_in", 80.0)],
        )
        self.assertAlmostEqual(account.balance, 199.75)
        self.assertEqual(self._kinds(old), [("recharge", 80.0), ("transfer_out", -80.0)])
        self.assertAlmostEqual(old.balance, 0.0)
        # the advance changed tenants in the books: Dr old tenant / Cr new tenant
        transfer_move = account.ledger_line_ids.filtered(
            lambda line: line.kind == "transfer_in" and line.move_id
        ).move_id
        self.assertEqual(transfer_move.state, "posted")
        self.assertRecordValues(
            transfer_move.line_ids.sorted("balance"),
            [
                {
                    "partner_id": self.tenant.id,
                    "account_id": self.receivable.id,
                    "debit": 0.0,
                    "credit": 80.0,
                },
                {
                    "partner_id": self.old_tenant.id,
                    "account_id": self.receivable.id,
                    "debit": 80.0,
                    "credit": 0.0,
                },
            ],
        )
        # the old tenant's advance is used up by the transfer
        old_lines = (old.recharge_ids.payment_id.move_id | transfer_move).line_ids.filtered(
            lambda line: line.partner_id == self.old_tenant and line.account_id == self.receivable
        )
        self.assertEqual(len(old_lines), 2)
        self.assertTrue(all(old_lines.mapped("reconciled")))
        # books vs wallet: the new tenant 180.00 advanced (100 + 80) + 19.75 carried without
        # an entry (opening balance and old meter); the old tenant 0 and 0
        new_row = self._integrity_row(self.tenant)
        self.assertRecordValues(
            new_row,
            [
                {
                    "advances": 180.0,
                    "unbooked_movements": 19.75,
                    "wallet_balance": 199.75,
                    "difference": 0.0,
                }
            ],
        )
        self.assertRecordValues(
            self._integrity_row(self.old_tenant),
            [{"advances": 0.0, "wallet_balance": 0.0, "difference": 0.0}],
        )

    def test_open_refuses_a_meter_already_on_an_account(self):
        self._open_account()
        before = self._money_counts()
        with self.assertRaisesRegex(UserError, "Already on an account: EL-0001"):
            self._open_account()
        self.assertEqual(self._money_counts(), before)

    def test_add_a_meter_later(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account()
        with freeze_time("2025-03-05 08:00:00"):
            wizard = (
                self.env["prepaid.account.open.wizard"]
                .with_user(self.officer)
                .with_context(**account.action_add_meter()["context"])
                .create(
                    {
                        "line_ids": [
                            Command.create({"meter_id": self.meter2.id, "reading_total": 42.0})
                        ]
                    }
                )
            )
            self.assertEqual(wizard.account_id, account)
            wizard.action_confirm()
        self.assertEqual(account.meter_ids, self.meter | self.meter2)
        # opened without credit, the wallet is at 0.00: in arrears from the start (issue 7,
        # item 5: this read "normal" before), and the meter added follows its wallet
        self.assertEqual(account.alarm_level, "arrears")
        self.assertEqual(self.meter2.state, "arrears")
        self.assertEqual(self.meter2.priced_reading_id.total, 42.0)
        self.assertFalse(
            self.env["prepaid.account"].search(
                [("id", "!=", account.id), ("partner_id", "=", self.tenant.id)]
            )
        )

    def test_replace_a_meter(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account(first_recharge_amount=200.0, journal_id=self.cash_journal)
        with freeze_time("2025-03-10 08:00:00"):
            wizard = (
                self.env["prepaid.meter.replace.wizard"]
                .with_user(self.officer)
                .create(
                    {
                        "account_id": account.id,
                        "old_meter_id": self.meter.id,
                        "old_final_total": 1100.0,
                        "new_meter_id": self.meter2.id,
                        "new_start_total": 5.0,
                        "reason": "Display failed",
                    }
                )
            )
            wizard.action_confirm()
        # the old meter was billed to its final reading: 100 kWh x 0.50 = 50.00
        self.assertEqual(account.meter_ids, self.meter2)
        self.assertFalse(self.meter.account_id)
        self.assertEqual(self.meter.state, "not_opened")
        self.assertEqual(self.meter2.state, "normal")
        self.assertEqual(self.meter2.priced_reading_id.total, 5.0)
        consumption = account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")
        self.assertAlmostEqual(consumption.amount, -50.0)
        self.assertEqual(consumption.charge_ids.meter_id, self.meter)
        # the balance stays on the account
        self.assertAlmostEqual(account.balance, 150.0)
        self.assertTrue(account.message_ids.filtered(lambda m: "Display failed" in m.body))
        # the new meter bills from its start reading: 5 -> 25 is 20 kWh = 10.00
        with freeze_time("2025-03-11 08:00:00"):
            self.env["prepaid.reading"]._ingest(
                [{"meter_id": self.meter2.id, "timestamp": "2025-03-11 08:00:00", "total": "25"}]
            )
            self._price()
        self.assertAlmostEqual(account.balance, 140.0)

    def test_close_with_a_transfer_to_the_same_tenant(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account(first_recharge_amount=60.0, journal_id=self.cash_journal)
            new_account = self.env["prepaid.account"].create({"partner_id": self.tenant.id})
            new_account.state = "open"
        with freeze_time("2025-03-20 08:00:00"):
            wizard = (
                self.env["prepaid.account.close.wizard"]
                .with_user(self.officer)
                .create(
                    {
                        "account_id": account.id,
                        "settlement": "transfer",
                        "transfer_account_id": new_account.id,
                        "line_ids": [
                            Command.create({"meter_id": self.meter.id, "reading_total": 1040.0})
                        ],
                    }
                )
            )
            wizard.action_confirm()
        # 40 kWh x 0.50 = 20.00 billed on the final invoice; 40.00 moves on
        closing = account.closing_ids
        self.assertRecordValues(
            closing,
            [
                {
                    "settlement": "transfer",
                    "settlement_amount": 40.0,
                    "final_balance": 0.0,
                    "transfer_account_id": new_account.id,
                }
            ],
        )
        self.assertAlmostEqual(closing.final_invoice_id.amount_total, 20.0)
        self.assertEqual(closing.final_invoice_id.payment_state, "paid")
        self.assertAlmostEqual(new_account.balance, 40.0)
        # same tenant: no entry, the two lines cancel out in the tenant's books
        self.assertFalse(new_account.ledger_line_ids.move_id)
        self.assertRecordValues(
            self._integrity_row(self.tenant),
            [
                {
                    "advances": 60.0,
                    "invoiced": 20.0,
                    "unbooked_movements": 0.0,
                    "wallet_balance": 40.0,
                    "difference": 0.0,
                }
            ],
        )

    def test_close_in_debt_leaves_the_final_invoice_open(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account(first_recharge_amount=30.0, journal_id=self.cash_journal)
        alarms_before = self._alarm_messages(account)
        with freeze_time("2025-03-20 08:00:00"):
            wizard = (
                self.env["prepaid.account.close.wizard"]
                .with_user(self.officer)
                .create(
                    {
                        "account_id": account.id,
                        "line_ids": [
                            Command.create({"meter_id": self.meter.id, "reading_total": 1100.0})
                        ],
                    }
                )
            )
            wizard.action_confirm()
        # 100 kWh x 0.50 = 50.00 against 30.00 paid: 20.00 owed on the final invoice
        closing = account.closing_ids
        self.assertRecordValues(
            closing, [{"settlement": "debt", "settlement_amount": 20.0, "final_balance": -20.0}]
        )
        self.assertEqual(closing.final_invoice_id.payment_state, "partial")
        self.assertAlmostEqual(closing.final_invoice_id.amount_residual, 20.0)
        self.assertEqual(account.state, "closed")
        # closing ends the alarms (issue 7, item 5: this stayed "arrears" before): the debt
        # is the open final invoice's, and the departing tenant is not told to recharge
        self.assertEqual(account.alarm_level, "normal")
        self.assertFalse(account.in_arrears)
        # the final consumption took the wallet to -20.00: no "please recharge" for it
        self.assertEqual(self._alarm_messages(account), alarms_before)

    def test_a_large_closing_refund_needs_a_manager(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account(first_recharge_amount=300.0, journal_id=self.cash_journal)
        values = {
            "account_id": account.id,
            "settlement": "refund",
            "journal_id": self.cash_journal.id,
            "line_ids": [Command.create({"meter_id": self.meter.id, "reading_total": 1000.0})],
        }
        with freeze_time("2025-03-20 08:00:00"):
            before = self._money_counts()
            wizard = self.env["prepaid.account.close.wizard"].with_user(self.officer)
            with self.assertRaisesRegex(UserError, "a prepaid manager must close"):
                wizard.create(values).action_confirm()
            self.assertEqual(self._money_counts(), before)
            self.assertEqual(account.state, "open")
            self.assertEqual(self.meter.account_id, account)
            wizard.with_user(self.manager).create(values).action_confirm()
        self.assertEqual(account.state, "closed")
        self.assertEqual(account.closing_ids.refund_id.approved_by_id, self.manager)
        self.assertAlmostEqual(account.closing_ids.refund_id.amount, 300.0)

    def test_credit_limit_and_emergency_credit(self):
        account = self._open_account(first_recharge_amount=20.0, journal_id=self.cash_journal)
        account.write({"credit_limit": 10.0, "emergency_credit_amount": 30.0})
        # 20 - 25 = -5: in arrears for alarms, but the credit limit (10) still carries it
        self._consume(account, 25.0)
        self.assertEqual(account.alarm_level, "arrears")
        self.assertAlmostEqual(account.available_credit, 5.0)
        self.assertFalse(account.in_arrears)
        # -15: past the credit limit
        self._consume(account, 10.0)
        self.assertAlmostEqual(account.available_credit, -5.0)
        self.assertTrue(account.in_arrears)
        account.with_user(self.officer).action_activate_emergency_credit()
        self.assertTrue(account.emergency_credit_active)
        self.assertAlmostEqual(account.available_credit, 25.0)  # -15 + 10 + 30
        self.assertFalse(account.in_arrears)
        with self.assertRaisesRegex(UserError, "already in use"):
            account.action_activate_emergency_credit()
        # a recharge above the arrears threshold repays it and makes it available again
        self._recharge(account, 50.0)
        self.assertAlmostEqual(account.balance, 35.0)
        self.assertFalse(account.emergency_credit_active)
        self.assertAlmostEqual(account.available_credit, 45.0)

    def test_pricing_posts_consumption_and_raises_alarms(self):
        with freeze_time("2025-03-03 08:00:00"):
            account = self._open_account(first_recharge_amount=100.0, journal_id=self.cash_journal)
        # 1000 -> 1120 kWh x 0.50 = 60.00: 100 - 60 = 40 <= 50, alarm 1
        with freeze_time("2025-03-04 08:00:00"):
            self.env["prepaid.reading"]._ingest(
                [{"meter_id": self.meter.id, "timestamp": "2025-03-04 08:00:00", "total": "1120"}]
            )
            self._price()
        self.assertAlmostEqual(account.balance, 40.0)
        self.assertEqual(account.alarm_level, "alarm1")
        self.assertEqual(self.meter.state, "alarm1")
        self.assertEqual(len(self._alarm_messages(account)), 1)
