"""Cashier shifts: documents belong to the open shift, the counted cash is compared with
what the system expects, and a difference is booked with its reason."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .test_fees_common import FeeCase


@tagged("post_install", "-at_install")
class TestCashierShift(FeeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._open_class_account(cls.occupancy)
        cls.loss_account = cls.env["account.account"].create(
            {"name": "Cash shortages", "code": "659100", "account_type": "expense"}
        )
        cls.gain_account = cls.env["account.account"].create(
            {"name": "Cash surpluses", "code": "759100", "account_type": "income_other"}
        )
        cls.cash_journal.write(
            {"loss_account_id": cls.loss_account.id, "profit_account_id": cls.gain_account.id}
        )
        cls.cashier2 = new_test_user(
            cls.env,
            login="pe_cashier_2",
            groups="prepaid_energy.group_prepaid_cashier",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _open_shift(self, user=None, float_amount=200.0):
        """Open a shift from 'My shift', as a cashier does: the cash desk is proposed."""
        env = self.env(user=user or self.cashier)
        action = env["prepaid.cashier.shift"].action_my_shift()
        self.assertNotIn("res_id", action)  # no shift open yet: a new one
        with Form(env["prepaid.cashier.shift"]) as form:
            form.site_id = self.site.with_env(env)
        shift = form.record
        self.assertEqual(shift.line_ids.journal_id, self.cash_journal)
        shift.line_ids.opening_amount = float_amount
        self.assertEqual(env["prepaid.cashier.shift"].action_my_shift()["res_id"], shift.id)
        return shift.with_env(self.env)

    def test_a_shift_whose_count_differs_books_the_difference(self):
        shift = self._open_shift()
        self.assertTrue(shift.name.startswith("SH/"))
        hundred = self._recharge(self.account, 100.0)
        fifty = self._recharge(self.account, 50.0)
        refund = self._recharge(self.account, 30.0, operation="refund")
        reversal = self._recharge(
            self.account, 50.0, operation="reversal", reversed_recharge_id=fifty.id
        )
        card = self._recharge(self.account, 80.0, journal_id=self.bank_journal.id)
        self.assertEqual(shift.recharge_ids, hundred | fifty | refund | reversal | card)
        self.assertEqual(reversal.shift_id, shift)
        cash = shift.line_ids.filtered(lambda line: line.journal_id == self.cash_journal)
        bank = shift.line_ids - cash
        self.assertEqual(bank.journal_id, self.bank_journal, "a channel used joins the shift")
        # float 200.00 + 100.00 + 50.00 - 30.00 (refund) - 50.00 (the 50.00 reversed) = 270.00
        self.assertRecordValues(
            cash,
            [
                {
                    "opening_amount": 200.0,
                    "recharge_amount": 150.0,
                    "refund_amount": 30.0,
                    "reversal_amount": -50.0,
                    "document_count": 4,
                    "expected_amount": 270.0,
                }
            ],
        )
        self.assertEqual(bank.expected_amount, 80.0)
        cash.counted_amount = 265.0
        bank.counted_amount = 80.0
        self.assertEqual(shift.difference_amount, -5.0)
        counts = self._money_counts()
        with self.assertRaisesRegex(ValidationError, "give the reason"):
            shift.with_user(self.cashier).action_close()
        self.assertEqual((shift.state, self._money_counts()), ("open", counts))
        shift.difference_reason = "A 5.00 note given as change twice"
        shift.with_user(self.cashier).action_close()
        self.assertEqual(shift.state, "closed")
        move = shift.difference_move_ids
        self.assertEqual(len(move), 1)
        self.assertEqual((move.state, move.journal_id), ("posted", self.cash_journal))
        self.assertRecordValues(
            move.line_ids.sorted("balance"),
            [
                {"account_id": self.cash_account.id, "balance": -5.0},
                {"account_id": self.loss_account.id, "balance": 5.0},
            ],
        )
        self.assertIn("A 5.00 note", move.ref)
        self.assertEqual(cash.closing_expected, 270.0)
        # closed: nothing changes, later documents are not the shift's
        with self.assertRaisesRegex(UserError, "closed shift cannot change"):
            cash.counted_amount = 270.0
        later = self._recharge(self.account, 10.0)
        self.assertFalse(later.shift_id)
        self.assertEqual(cash.expected_amount, 270.0)
        entries = self.env["prepaid.audit.log"].search(
            [("res_model", "=", "prepaid.cashier.shift")]
        )
        self.assertEqual(entries.mapped("action"), ["shift_close", "shift_open"])
        self.assertEqual(entries[0].amount, -5.0)
        # the Z report
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "prepaid_energy.action_report_prepaid_shift_z", shift.ids
        )
        text = html.decode().replace("\ufeff", "")  # the monetary widget's minus joiner
        for expected in (shift.name, "270.00", "265.00", "-5.00", "A 5.00 note", hundred.name):
            self.assertIn(expected, text)

    def test_a_surplus_goes_to_the_profit_account_and_an_exact_count_books_nothing(self):
        shift = self._open_shift(float_amount=0.0)
        self._recharge(self.account, 40.0)
        shift.line_ids.counted_amount = 41.0
        shift.difference_reason = "Unclaimed change"
        shift.action_close()
        self.assertRecordValues(
            shift.difference_move_ids.line_ids.sorted("balance"),
            [
                {"account_id": self.gain_account.id, "balance": -1.0},
                {"account_id": self.cash_account.id, "balance": 1.0},
            ],
        )
        exact = self._open_shift(float_amount=10.0)
        self._recharge(self.account, 5.0)
        exact.line_ids.counted_amount = 15.0
        exact.action_close()
        self.assertFalse(exact.difference_move_ids)

    def test_one_open_shift_per_cashier_and_managers_see_every_open_shift(self):
        mine = self._open_shift()
        with self.assertRaisesRegex(UserError, "already has an open shift"):
            self.env["prepaid.cashier.shift"].with_user(self.cashier).create({})
        other = self._open_shift(user=self.cashier2, float_amount=0.0)
        Shift = self.env["prepaid.cashier.shift"]
        self.assertEqual(Shift.with_user(self.cashier).search([]), mine)
        with self.assertRaises(AccessError):
            other.with_user(self.cashier).read(["name"])
        self.assertEqual(
            Shift.with_user(self.manager).search([("state", "=", "open")]), mine | other
        )
        with self.assertRaisesRegex(UserError, "Only the cashier or a manager"):
            other.with_user(self.officer).action_close()
        other.with_user(self.manager).action_close()  # nothing sold, nothing counted
        self.assertEqual(other.state, "closed")

    def test_a_site_can_require_an_open_shift_for_cash(self):
        self.site.with_user(self.manager).require_cashier_shift = True
        counts = self._money_counts()
        with self.assertRaisesRegex(UserError, "open your shift"):
            self._recharge(self.account, 20.0)
        self.assertEqual(self._money_counts(), counts)
        # other channels do not need one
        card = self._recharge(self.account, 20.0, journal_id=self.bank_journal.id)
        self.assertEqual((card.state, card.shift_id.id), ("done", False))
        shift = self._open_shift()
        cash = self._recharge(self.account, 20.0)
        self.assertEqual((cash.state, cash.shift_id), ("done", shift))

    def test_a_channel_without_a_cash_difference_account_says_where_to_set_it(self):
        self.cash_journal.loss_account_id = False
        shift = self._open_shift(float_amount=0.0)
        self._recharge(self.account, 40.0)
        shift.write(
            {
                "difference_reason": "Short",
                "line_ids": [Command.update(shift.line_ids.id, {"counted_amount": 39.0})],
            }
        )
        counts = self._money_counts()
        with self.assertRaisesRegex(
            UserError, r"no Loss Account .* Journals > Cash, tab Journal Entries"
        ):
            shift.action_close()
        self.assertEqual((shift.state, self._money_counts()), ("open", counts))
        # the site's cash settings are a manager's
        with self.assertRaises(AccessError):
            self.site.with_user(self.officer).require_cashier_shift = True
