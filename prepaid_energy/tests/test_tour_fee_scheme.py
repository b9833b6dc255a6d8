"""In the browser: a manager sets up a rent, previews it and posts what is due
(tour ``prepaid_energy_rent_scheme``); and the fee documents as wkhtmltopdf prints them."""

import calendar
import datetime
import io
import re
from decimal import ROUND_HALF_UP, Decimal

from odoo import Command, fields
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools.pdf import PdfFileReader

from .test_fees_common import FeeCase

D = datetime.date
UTC = datetime.datetime


def pdf_text(pdf):
    reader = PdfFileReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text).replace("\ufeff", "")


@tagged("post_install", "-at_install")
class TestRentSchemeTour(FeeCase, HttpCase):
    def test_set_up_a_rent_preview_it_and_post_what_is_due(self):
        account = self._open_for(self.occupancy, recharge=500.0)
        today = fields.Date.context_today(account)
        self.start_tour("/odoo", "prepaid_energy_rent_scheme", login=self.manager.login)
        scheme = self.env["prepaid.fee.scheme"].search([("name", "=", "Office rent")])
        self.assertRecordValues(
            scheme,
            [{"fee_type": "rent", "basis": "fixed", "amount": 300.0, "collection": "wallet"}],
        )
        charge = account.fee_charge_ids
        self.assertEqual(len(charge), 1, "only what is due today was posted")
        # from today to the month's end, prorated by days: 300 x days left / days in month
        days_in_month = calendar.monthrange(today.year, today.month)[1]
        days = days_in_month - today.day + 1
        expected = (Decimal(300) * days / days_in_month).quantize(Decimal("0.01"), ROUND_HALF_UP)
        self.assertEqual((charge.date_from, charge.days), (today, days))
        self.assertAlmostEqual(charge.amount, float(expected))
        self.assertAlmostEqual(account.balance, 500.0 - float(expected))
        self.assertEqual(charge.ledger_line_id.kind, "fee")


@tagged("post_install", "-at_install")
class TestFeeDocumentsPdf(FeeCase, HttpCase):
    """Statements, the move-out statement and the Z report as real PDF documents (an
    HttpCase: wkhtmltopdf loads the report's styles from this Odoo)."""

    def _pdf(self, report, records, data=None, user=None):
        Report = self.env["ir.actions.report"].with_user(user or self.officer)
        pdf, kind = Report.with_context(force_report_rendering=True)._render_qweb_pdf(
            report, records.ids, data=data
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"))
        return pdf_text(pdf)

    def test_monthly_statement_of_two_accounts_in_one_print(self):
        with freeze_time("2025-03-01 09:00:00"):
            account = self._open_for(self.occupancy, recharge=100.0)
            account2 = self._open_for(self.occupancy2, recharge=40.0)
        rent = self._scheme(name="Office rent", fee_type="rent", amount=50.0)
        with freeze_time("2025-03-05 09:00:00"):
            self._subscribe(account, rent, D(2025, 3, 1))._post_due_charges()
        wizard = self.env["prepaid.statement.wizard"].create(
            {"account_ids": [Command.set((account | account2).ids)], "month": D(2025, 3, 17)}
        )
        action = wizard.action_print()
        self.assertEqual(
            (action["type"], action["data"]), ("ir.actions.report", {"month": "2025-03-01"})
        )
        pages, text = self._pdf(
            "prepaid_energy.action_report_prepaid_statement", account | account2, action["data"]
        )
        self.assertEqual(pages, 2)  # one document, an account a page
        # opening 0.00, credits 100.00, debits 50.00 (the March rent), closing 50.00
        self.assertRegex(text, rf"Statement of {account.name} ?: 2025-03-01 - 2025-03-31")
        self.assertIn("Office rent", text)
        self.assertIn("50.00", text)
        self.assertIn("100.00", text)
        self.assertIn("Lotus Trading Ltd", text)
        self.assertIn("Peony Foods", text)
        self.assertIn("MONTHLY STATEMENT", text)
        values = self.env["report.prepaid_energy.report_prepaid_statement"]._get_report_values(
            account.ids, {"month": "2025-03-01"}
        )["statements"][account.id]
        self.assertEqual(
            (values["opening"], values["credits"], values["debits"], values["closing"]),
            (0.0, 100.0, 50.0, 50.0),
        )

    def test_move_out_statement(self):
        with freeze_time("2025-03-01 09:00:00"):
            account = self._open_for(self.occupancy, recharge=100.0)
        service = self._scheme(
            name="Cleaning", fee_type="service", amount=30.0, collection="invoice"
        )
        with freeze_time("2025-03-02 09:00:00"):
            self._subscribe(account, service, D(2025, 3, 1))._post_due_charges()
            wizard = (
                self.env["prepaid.account.close.wizard"]
                .with_user(self.officer)
                .create(
                    {
                        "account_id": account.id,
                        "settlement": "refund",
                        "journal_id": self.cash_journal.id,
                        "reason": "Lease ended",
                        "line_ids": [
                            Command.create({"meter_id": self.meter.id, "reading_total": 12.0})
                        ],
                    }
                )
            )
            action = wizard.action_confirm()
        closing = self.env["prepaid.account.closing"].browse(action["res_id"])
        # 12 kWh at 0.50 = 6.00 consumed; 94.00 refunded; the cleaning invoice still open
        self.assertRecordValues(closing, [{"settlement": "refund", "settlement_amount": 94.0}])
        pages, text = self._pdf("prepaid_energy.action_report_prepaid_moveout", closing)
        self.assertEqual(pages, 1)
        for expected in (
            "MOVE-OUT STATEMENT",
            account.name,
            "EL-0001",
            "12.0000",
            "94.00",
            "Fees still to pay",
            "30.00",
            "Lease ended",
        ):
            self.assertIn(expected, text)

    def test_z_report_and_common_area_statement(self):
        account = self._open_for(self.occupancy)
        shift = self.env["prepaid.cashier.shift"].with_user(self.cashier).create({})
        shift.line_ids.opening_amount = 20.0
        self._recharge(account, 35.0)
        shift.line_ids.counted_amount = 55.0
        shift.with_user(self.cashier).action_close()
        pages, text = self._pdf(
            "prepaid_energy.action_report_prepaid_shift_z", shift, user=self.cashier
        )
        self.assertEqual(pages, 1)
        for expected in ("Z REPORT", shift.name, "20.00", "35.00", "55.00"):
            self.assertIn(expected, text)
        rule = self.env["prepaid.apportionment.rule"].create(
            {"name": "Lobby", "site_id": self.site.id}
        )
        rule.action_add_units()
        run = self.env["prepaid.apportionment.run"].create(
            {
                "rule_id": rule.id,
                "period_start": D(2025, 3, 1),
                "period_end": D(2025, 3, 31),
                "source": "manual",
                "master_amount": 100.0,
                "master_quantity": 50.0,
            }
        )
        run.action_compute()
        run.action_post()
        pages, text = self._pdf(
            "prepaid_energy.action_report_prepaid_apportionment_statement",
            run.share_ids.filtered("account_id"),
        )
        self.assertEqual(pages, 1)  # one tenant: 101 is the only occupied unit
        for expected in (
            "COMMON-AREA STATEMENT",
            "Lobby",
            "By area",
            "100.00",
            "50.000",
            "Vacant: skipped",
        ):
            self.assertIn(expected, text)
