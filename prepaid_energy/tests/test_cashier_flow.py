"""The whole cashier's day on one wallet, with the journal items checked at each step.

open -> recharge -> consume through alarm 1, alarm 2, arrears -> recharge ->
invoice + reconciliation -> refund -> reversal -> close.
"""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_money_common import MoneyCase


@tagged("post_install", "-at_install")
class TestCashierFlow(MoneyCase):
    def _assert_balance(self, account, expected):
        account.invalidate_recordset(["balance"])
        self.assertAlmostEqual(account.balance, expected, places=2)

    def _assert_integrity(self, expected_wallet):
        row = self._integrity_row(self.tenant)
        self.assertEqual(len(row), 1)
        self.assertAlmostEqual(row.wallet_balance, expected_wallet, places=2)
        self.assertAlmostEqual(row.difference, 0.0, places=2)

    def test_full_cashier_flow(self):
        # ---- open with a first recharge of 200.00 in cash
        account = self._open_account(first_recharge_amount=200.0, journal_id=self.cash_journal)
        self.assertEqual(account.state, "open")
        self.assertEqual(self.meter.account_id, account)
        self.assertEqual(self.meter.state, "normal")
        self.assertIn(self.tenant, account.message_partner_ids)
        first = account.recharge_ids
        self.assertEqual(first.state, "done")
        self.assertRecordValues(first.payment_id, [{"payment_type": "inbound", "amount": 200.0}])
        self.assertIn(first.payment_id.state, ("in_process", "paid"))
        # Dr cash 200 / Cr tenant receivable 200 (the advance, still open)
        self.assertRecordValues(
            first.payment_id.move_id.line_ids.sorted("balance"),
            [
                {
                    "account_id": self.receivable.id,
                    "debit": 0.0,
                    "credit": 200.0,
                    "reconciled": False,
                },
                {
                    "account_id": self.cash_account.id,
                    "debit": 200.0,
                    "credit": 0.0,
                    "reconciled": False,
                },
            ],
        )
        self.assertAlmostEqual(
            first.payment_id.move_id.line_ids.sorted("balance")[0].amount_residual, -200.0
        )
        self.assertEqual(first.payment_id.move_id.prepaid_account_id, account)
        self._assert_balance(account, 200.0)
        self._assert_integrity(200.0)

        # ---- consumption: 200 - 155 = 45 <= 50: alarm 1, notified once
        self._consume(account, 155.0)
        self._assert_balance(account, 45.0)
        self.assertEqual(account.alarm_level, "alarm1")
        self.assertEqual(self.meter.state, "alarm1")
        self.assertEqual(len(self._alarm_messages(account)), 1)
        self.assertIn("Alarm 1", self._alarm_messages(account)[0].body)
        # 45 - 5 = 40: still alarm 1, no second message
        self._consume(account, 5.0)
        self.assertEqual(len(self._alarm_messages(account)), 1)
        # 40 - 25 = 15 <= 20: alarm 2
        self._consume(account, 25.0)
        self.assertEqual(account.alarm_level, "alarm2")
        self.assertEqual(len(self._alarm_messages(account)), 2)
        self.assertIn("Alarm 2", self._alarm_messages(account)[0].body)
        # 15 - 15 = 0 <= 0: arrears (at the threshold counts)
        self._consume(account, 15.0)
        self._assert_balance(account, 0.0)
        self.assertEqual(account.alarm_level, "arrears")
        self.assertEqual(self.meter.state, "arrears")
        self.assertTrue(account.in_arrears)
        self.assertEqual(len(self._alarm_messages(account)), 3)
        # 0 - 10 = -10: deeper in arrears, nothing new to say
        self._consume(account, 10.0)
        self.assertEqual(len(self._alarm_messages(account)), 3)
        self.assertEqual(account.alarm_state, {"alarm1": True, "alarm2": True, "arrears": True})

        # ---- a recharge of 100.00 resets the alarms: -10 + 100 = 90
        second = self._recharge(account, 100.0)
        self._assert_balance(account, 90.0)
        self.assertEqual(account.alarm_level, "normal")
        self.assertEqual(self.meter.state, "normal")
        self.assertEqual(account.alarm_state, {"alarm1": False, "alarm2": False, "arrears": False})
        # ... so the next fall below 50 is told again: 90 - 45 = 45
        self._consume(account, 45.0)
        self.assertEqual(account.alarm_level, "alarm1")
        self.assertEqual(len(self._alarm_messages(account)), 4)
        self._assert_integrity(45.0)

        # ---- invoice: 155 + 5 + 25 + 15 + 10 + 45 = 255.00 charged, tax included
        wizard = (
            self.env["prepaid.invoice.wizard"]
            .with_user(self.officer)
            .create({"date_to": self._tomorrow(), "account_ids": [(6, 0, account.ids)]})
        )
        wizard.action_confirm()
        invoice = account.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id, self.tenant)
        self.assertAlmostEqual(invoice.amount_total, 255.0, places=2)
        self.assertEqual(len(invoice.invoice_line_ids), 6)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.product_electricity)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.tax_included)
        # 10 % included: 255 / 1.1 = 231.82 net + 23.18 tax (per line rounding sums the same)
        self.assertAlmostEqual(invoice.amount_untaxed + invoice.amount_tax, 255.0, places=2)
        self.assertFalse(account._uninvoiced_lines())
        # reconciled with the advances, oldest first: 200 fully, 55 of the 100
        self.assertEqual(invoice.payment_state, "paid")
        receivable_line = invoice.line_ids.filtered(lambda line: line.account_id == self.receivable)
        self.assertRecordValues(
            receivable_line, [{"debit": 255.0, "reconciled": True, "amount_residual": 0.0}]
        )
        self.assertRecordValues(
            (first.payment_id.move_id.line_ids | second.payment_id.move_id.line_ids)
            .filtered(lambda line: line.account_id == self.receivable)
            .sorted("id"),
            [
                {"credit": 200.0, "reconciled": True, "amount_residual": 0.0},
                {"credit": 100.0, "reconciled": False, "amount_residual": -45.0},
            ],
        )
        self._assert_integrity(45.0)
        row = self._integrity_row(self.tenant)
        self.assertAlmostEqual(row.advances, 300.0, places=2)
        self.assertAlmostEqual(row.invoiced, 255.0, places=2)
        self.assertAlmostEqual(row.uninvoiced_charges, 0.0, places=2)

        # ---- refund 30.00 in cash (below the approval limit): 45 - 30 = 15 -> alarm 2
        refund = self._recharge(account, 30.0, operation="refund")
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.payment_id.payment_type, "outbound")
        self._assert_balance(account, 15.0)
        self.assertEqual(account.alarm_level, "alarm2")
        # Dr receivable 30 / Cr cash 30, matched against the 45 still advanced
        self.assertRecordValues(
            refund.payment_id.move_id.line_ids.sorted("balance"),
            [
                {
                    "account_id": self.cash_account.id,
                    "debit": 0.0,
                    "credit": 30.0,
                    "reconciled": False,
                },
                {
                    "account_id": self.receivable.id,
                    "debit": 30.0,
                    "credit": 0.0,
                    "reconciled": True,
                },
            ],
        )
        second_receivable = second.payment_id.move_id.line_ids.filtered(
            lambda line: line.account_id == self.receivable
        )
        self.assertAlmostEqual(second_receivable.amount_residual, -15.0, places=2)
        self._assert_integrity(15.0)

        # ---- the refund was a mistake: reverse it (entry reversed, never deleted)
        reversal = self._recharge(
            account,
            30.0,
            operation="reversal",
            reversed_recharge_id=refund.id,
            reason="Wrong tenant",
        )
        self.assertEqual(reversal.state, "done")
        self.assertTrue(refund.is_reversed)
        self.assertEqual(refund.payment_id.state, "canceled")
        self.assertEqual(refund.payment_id.move_id.state, "posted")
        reversal_move = reversal.reversal_move_id
        self.assertEqual(reversal_move.reversed_entry_id, refund.payment_id.move_id)
        self.assertEqual(reversal_move.state, "posted")
        self.assertRecordValues(
            reversal_move.line_ids.sorted("balance"),
            [
                {
                    "account_id": self.receivable.id,
                    "debit": 0.0,
                    "credit": 30.0,
                    "reconciled": True,
                },
                {
                    "account_id": self.cash_account.id,
                    "debit": 30.0,
                    "credit": 0.0,
                    "reconciled": True,
                },
            ],
        )
        reversal_line = reversal.ledger_line_ids
        self.assertRecordValues(reversal_line, [{"kind": "reversal", "amount": 30.0}])
        self.assertEqual(reversal_line.reversed_line_id, refund.ledger_line_ids)
        self._assert_balance(account, 45.0)
        # the advance the refund had used is open again
        second_receivable.invalidate_recordset(["amount_residual"])
        self.assertAlmostEqual(second_receivable.amount_residual, -45.0, places=2)
        self._assert_integrity(45.0)
        with self.assertRaisesRegex(UserError, "already reversed"):
            self._recharge(account, 30.0, operation="reversal", reversed_recharge_id=refund.id)

        # ---- close: the meter reads what it read at opening; 45.00 is refunded
        close = (
            self.env["prepaid.account.close.wizard"]
            .with_user(self.officer)
            .create(
                {
                    "account_id": account.id,
                    "settlement": "refund",
                    "journal_id": self.cash_journal.id,
                    "line_ids": [(0, 0, {"meter_id": self.meter.id, "reading_total": 1000.0})],
                }
            )
        )
        action = close.action_confirm()
        closing = self.env["prepaid.account.closing"].browse(action["res_id"])
        self.assertEqual(account.state, "closed")
        self.assertRecordValues(
            closing,
            [
                {
                    "settlement": "refund",
                    "settlement_amount": 45.0,
                    "final_balance": 0.0,
                    "balance_before_settlement": 45.0,
                }
            ],
        )
        self.assertEqual(closing.meter_ids, self.meter)
        self.assertFalse(self.meter.account_id)
        self.assertEqual(self.meter.state, "not_opened")
        self.assertEqual(closing.refund_id.payment_id.amount, 45.0)
        self._assert_balance(account, 0.0)
        self._assert_integrity(0.0)
        # every advance is now used up or refunded
        self.assertFalse(
            self.env["account.move.line"].search(
                [
                    ("partner_id", "=", self.tenant.id),
                    ("account_id", "=", self.receivable.id),
                    ("reconciled", "=", False),
                    ("parent_state", "=", "posted"),
                ]
            )
        )
        with self.assertRaisesRegex(UserError, "not open"):
            self._recharge(account, 10.0)
