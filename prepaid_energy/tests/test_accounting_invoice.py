"""Period invoices: lines per meter, band and tier, the rounding line, taxes, the cron."""

import datetime

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_money_common import MoneyCase
from .test_property_common import create_tou_tier_tariff


def utc(*args):
    return datetime.datetime(*args)


@tagged("post_install", "-at_install")
class TestAccountingInvoice(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Workday: peak 08-22 at 1.00, valley 22-08 at 0.40; weekend flat 0.70.
        # Tiers per monthly cycle: above 100 kWh +0.10.
        cls.tou = create_tou_tier_tariff(cls.env, name="TOU", code="TOU")
        # Shanghai is UTC+8 all year: local = UTC + 8 h.
        cls.tou_site = cls._create_site(
            cls.company, "Riverside", tz="Asia/Shanghai", default_tariff_id=cls.tou.id
        )
        cls.tou_unit = cls.env["prepaid.location"].create(
            {"name": "R-1", "location_type": "unit", "parent_id": cls.tou_site.id}
        )
        cls.tou_meter = cls._create_meter("TOU-0001", cls.tou_unit)
        cls.account = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.tou_unit.id}
        )
        cls.account.write({"state": "open"})

    def _read(self, when, total):
        result = self.env["prepaid.reading"]._ingest(
            [{"meter_id": self.tou_meter.id, "timestamp": when, "total": total}]
        )
        self.assertFalse(result["rejected"])
        return result["created"]

    def _invoice(self, date_to, accounts=None):
        wizard = (
            self.env["prepaid.invoice.wizard"]
            .with_user(self.officer)
            .create(
                {"date_to": date_to, "account_ids": [Command.set((accounts or self.account).ids)]}
            )
        )
        wizard.action_confirm()
        return (accounts or self.account).invoice_ids.sorted("id")[-1:]

    def test_invoice_lines_per_meter_band_and_tier(self):
        start = self._read(utc(2025, 1, 14, 22), "1000")  # Wed 15 Jan, 06:00 local
        self.tou_meter._open_on_account(self.account, start)
        self._read(utc(2025, 1, 15, 2), "1040")  # 10:00 local
        self._read(utc(2025, 1, 15, 14), "1160")  # 22:00 local
        self._recharge(self.account, 500.0, journal_id=self.bank_journal.id)
        price = self.env["prepaid.meter"].sudo()._cron_price_readings  # as the cron user
        price()
        # 06-08 valley 20 x 0.40 = 8.00; 08-22 peak: 80 at 1.00 = 80.00 in tier 1, then
        # 60 at 1.10 = 66.00 in tier 2 (above 100 kWh): 154.00
        january = self.account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")
        self.assertAlmostEqual(january.amount, -154.0)
        # Nothing used until 1 February 00:00 local, then 10 kWh by Saturday 10:00 local:
        # weekend flat 0.70 in a new monthly cycle (tier 1): 7.00, booked in February
        self._read(utc(2025, 1, 31, 16), "1160")
        self._read(utc(2025, 2, 1, 2), "1170")
        price()
        february = self.account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")
        february -= january
        self.assertAlmostEqual(february.amount, -7.0)
        self.assertAlmostEqual(self.account.balance, 500.0 - 154.0 - 7.0)

        invoice = self._invoice(datetime.date(2025, 2, 1))
        self.assertEqual(invoice.invoice_date, datetime.date(2025, 1, 31))
        self.assertRecordValues(
            invoice.invoice_line_ids.sorted("price_unit"),
            [
                {
                    "product_id": self.product_electricity.id,
                    "quantity": 20.0,
                    "price_unit": 0.40,
                    "price_total": 8.0,
                },
                {
                    "product_id": self.product_electricity.id,
                    "quantity": 80.0,
                    "price_unit": 1.00,
                    "price_total": 80.0,
                },
                {
                    "product_id": self.product_electricity.id,
                    "quantity": 60.0,
                    "price_unit": 1.10,
                    "price_total": 66.0,
                },
            ],
        )
        names = invoice.invoice_line_ids.sorted("price_unit").mapped("name")
        self.assertIn("TOU-0001", names[0])
        self.assertIn("Valley", names[0])
        self.assertIn("tier 2", names[2])
        self.assertAlmostEqual(invoice.amount_total, 154.0)
        # 10 % included: 154 / 1.1 = 140.00 net, 14.00 tax
        self.assertAlmostEqual(invoice.amount_untaxed, 140.0)
        self.assertAlmostEqual(invoice.amount_tax, 14.0)
        self.assertEqual(january.invoice_id, invoice)
        self.assertEqual(january.charge_ids.invoice_id, invoice)
        self.assertEqual(
            set(january.charge_ids.invoice_line_id.ids), set(invoice.invoice_line_ids.ids)
        )
        self.assertFalse(february.invoice_id)
        self.assertFalse(february.charge_ids.invoice_line_id)
        # the bank recharge is still in process; the invoice is paid from the advance
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertAlmostEqual(self.account.uninvoiced_amount, 7.0)
        row = self._integrity_row(self.tenant)
        self.assertRecordValues(
            row,
            [
                {
                    "advances": 500.0,
                    "invoiced": 154.0,
                    "uninvoiced_charges": 7.0,
                    "wallet_balance": 339.0,
                    "difference": 0.0,
                }
            ],
        )

    def test_rounding_line_makes_the_invoice_equal_the_charges(self):
        # Two bands of 0.005 kWh at 1.00 in one pricing run: exact 0.01 in all, booked
        # 0.01 + 0.00 by the engine's rounding carry. The invoice rounds each band's line on
        # its own (0.005 -> 0.01 twice = 0.02): a -0.01 line brings it back to 0.01.
        self.tou_meter._open_on_account(self.account, self._read(utc(2025, 1, 10), "10"))
        self._recharge(self.account, 10.0)
        line = self._consume(self.account, 0.01, meter=self.tou_meter, date=utc(2025, 1, 10, 1))
        self.env["prepaid.charge"].sudo().create(
            [
                {
                    "meter_id": self.tou_meter.id,
                    "account_id": self.account.id,
                    "ledger_line_id": line.id,
                    "band": band,
                    "tier": 1,
                    "quantity": 0.005,
                    "unit_price": 1.0,
                    "amount": amount,
                    "date_start": utc(2025, 1, 10),
                    "date_end": utc(2025, 1, 10, 1),
                    "product_id": self.product_electricity.id,
                    "company_id": self.company.id,
                }
                for band, amount in (("peak", 0.01), ("valley", 0.0))
            ]
        )
        invoice = self._invoice(datetime.date(2025, 2, 1))
        self.assertAlmostEqual(invoice.amount_total, 0.01)
        rounding = invoice.invoice_line_ids.filtered(lambda line: not line.product_id)
        self.assertRecordValues(
            rounding, [{"price_unit": -0.01, "quantity": 1.0, "price_total": -0.01}]
        )
        self.assertFalse(rounding.tax_ids)
        self.assertEqual(len(invoice.invoice_line_ids), 3)

    def test_fees_are_invoiced_with_the_fee_product(self):
        self._recharge(self.account, 100.0)
        self._consume(self.account, 12.5, kind="fee", date=utc(2025, 1, 20))
        invoice = self._invoice(datetime.date(2025, 2, 1))
        self.assertRecordValues(
            invoice.invoice_line_ids,
            [{"product_id": self.product_fee.id, "quantity": 1.0, "price_unit": 12.5}],
        )

    def test_a_credit_note_gives_the_money_back_to_the_wallet(self):
        self._recharge(self.account, 100.0)
        self._consume(self.account, 30.0, meter=self.tou_meter, date=utc(2025, 1, 20))
        invoice = self._invoice(datetime.date(2025, 2, 1))
        self.assertAlmostEqual(self.account.balance, 70.0)
        with self.assertRaisesRegex(UserError, "stay posted"):
            invoice.button_draft()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Meter misread"})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        self.assertEqual(credit_note.prepaid_account_id, self.account)
        self.assertAlmostEqual(self.account.balance, 70.0)  # a draft changes nothing
        credit_note.action_post()
        line = self.account.ledger_line_ids.filtered(lambda line: line.move_id == credit_note)
        self.assertRecordValues(line, [{"kind": "adjustment", "amount": 30.0}])
        self.assertAlmostEqual(self.account.balance, 100.0)
        self.assertRecordValues(
            self._integrity_row(self.tenant),
            [
                {
                    "advances": 100.0,
                    "invoiced": 0.0,
                    "uninvoiced_charges": 0.0,
                    "unbooked_movements": 0.0,
                    "wallet_balance": 100.0,
                    "difference": 0.0,
                }
            ],
        )
        # a copy of the invoice is an ordinary invoice, not a wallet's
        self.assertFalse(invoice.copy().prepaid_account_id)

    def test_a_tax_on_top_of_the_price_is_refused(self):
        excluded = self.env["account.tax"].create(
            {
                "name": "VAT 10% excluded",
                "amount": 10.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": self.company.id,
            }
        )
        self.product_electricity.taxes_id = excluded
        self._recharge(self.account, 100.0)
        self._consume(self.account, 30.0, meter=self.tou_meter, date=utc(2025, 1, 20))
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "must be included in the price.*VAT 10% excluded"):
            self._invoice(datetime.date(2025, 2, 1))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertAlmostEqual(self.account.uninvoiced_amount, 30.0)

    def test_cron_invoices_closed_periods_only(self):
        today = datetime.date.today()
        period_start = datetime.datetime.combine(today.replace(day=1), datetime.time())
        self._recharge(self.account, 300.0)
        # Asia/Shanghai: this month starts at 16:00 UTC the day before the 1st
        last_month = period_start - datetime.timedelta(days=3)
        this_month = period_start + datetime.timedelta(hours=1)  # 09:00 local on the 1st
        self._consume(self.account, 40.0, meter=self.tou_meter, date=last_month)
        self._consume(self.account, 25.0, meter=self.tou_meter, date=this_month)
        # a second account whose product tax is wrong: reported, skipped, not fatal
        water_meter = self._create_meter("W-1", self.tou_unit, utility="water")
        broken = self.env["prepaid.account"].create({"partner_id": self.partner_a.id})
        broken.write({"state": "open"})
        self.product_water.taxes_id = self.env["account.tax"].create(
            {
                "name": "Water tax on top",
                "amount": 5.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": self.company.id,
            }
        )
        self._recharge(broken, 50.0)
        self._consume(broken, 10.0, meter=water_meter, date=last_month)

        self.env["prepaid.account"]._cron_invoice_periods()
        invoice = self.account.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertAlmostEqual(invoice.amount_total, 40.0)
        self.assertEqual(invoice.invoice_date, today.replace(day=1) - datetime.timedelta(days=1))
        self.assertAlmostEqual(self.account.uninvoiced_amount, 25.0)
        self.assertFalse(broken.invoice_ids)
        self.assertIn("Water tax on top", broken.invoice_error)
        # run again: nothing new for either
        self.env["prepaid.account"]._cron_invoice_periods()
        self.assertEqual(len(self.account.invoice_ids), 1)
        self.assertFalse(broken.invoice_ids)
        # staff fix the tax and invoice by hand: the error is cleared
        self.product_water.taxes_id = self.tax_included
        self._invoice(today.replace(day=1), accounts=broken)
        self.assertAlmostEqual(broken.invoice_ids.amount_total, 10.0)
        self.assertFalse(broken.invoice_error)

    def test_bank_recharge_waits_in_outstanding_receipts(self):
        recharge = self._recharge(self.account, 75.0, journal_id=self.bank_journal.id)
        payment = recharge.payment_id
        self.assertEqual(payment.state, "in_process")
        self.assertFalse(payment.is_matched)
        outstanding = self.bank_in.payment_account_id
        self.assertRecordValues(
            payment.move_id.line_ids.sorted("balance"),
            [
                {"account_id": self.receivable.id, "debit": 0.0, "credit": 75.0},
                {"account_id": outstanding.id, "debit": 75.0, "credit": 0.0},
            ],
        )
