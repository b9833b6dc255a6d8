"""A new property manager's first use, in the browser (tour ``prepaid_energy_first_use``).

The company is created and its chart of accounts loaded here, after the module
was installed: what a new database does when its localization is chosen. So
its Cash journal did not exist when the module's install hook ran.
"""

import io
import re

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.pdf import PdfFileReader


@tagged("post_install", "-at_install")
class TestFirstUseTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Harbour Energy Services"})
        cls.env["account.chart.template"].try_loading(
            "generic_coa", cls.company, install_demo=False
        )
        cls.manager = new_test_user(
            cls.env,
            login="pe_tour_manager",
            name="Mia Manager",
            groups="base.group_user,prepaid_energy.group_prepaid_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        Location = cls.env["prepaid.location"].with_company(cls.company)
        cls.site = Location.create(
            {
                "name": "Harbour Park",
                "location_type": "site",
                "company_id": cls.company.id,
                "alarm1_amount": 50.0,
                "alarm2_amount": 20.0,
                "refund_approval_amount": 100.0,
            }
        )
        cls.unit = Location.create(
            {
                "name": "101",
                "location_type": "unit",
                "parent_id": cls.site.id,
                "company_id": cls.company.id,
            }
        )
        cls.tenant = cls.env["res.partner"].create({"name": "Lotus Trading Ltd"})
        cls.occupancy = (
            cls.env["prepaid.occupancy"]
            .with_company(cls.company)
            .create(
                {
                    "partner_id": cls.tenant.id,
                    "unit_id": cls.unit.id,
                    "company_id": cls.company.id,
                    "date_from": "2020-01-01",
                }
            )
        )
        cls.occupancy.action_activate()
        cls.meter = cls.env["prepaid.meter"].create(
            {"serial": "EL-0001", "unit_id": cls.unit.id, "company_id": cls.company.id}
        )

    def test_open_an_account_sell_cash_and_print_the_receipt(self):
        cash = self.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", self.company.id)]
        )
        self.assertEqual(len(cash), 1, "the chart loaded after the module made one cash desk")

        self.start_tour("/odoo", "prepaid_energy_first_use", login=self.manager.login)

        account = self.env["prepaid.account"].search([("company_id", "=", self.company.id)])
        self.assertRecordValues(
            account,
            [
                {
                    "partner_id": self.tenant.id,
                    "occupancy_id": self.occupancy.id,
                    "unit_id": self.unit.id,
                    "site_id": self.site.id,
                    "state": "open",
                    "balance": 150.0,
                }
            ],
        )
        self.assertEqual(account.meter_ids, self.meter)
        recharge = account.recharge_ids
        self.assertRecordValues(
            recharge,
            [
                {
                    "operation": "recharge",
                    "state": "done",
                    "amount": 150.0,
                    "journal_id": cash.id,
                    "user_id": self.manager.id,
                }
            ],
        )
        # the cash desk booked it: Dr cash / Cr the tenant's advance
        receivable = self.tenant.with_company(self.company).property_account_receivable_id
        self.assertRecordValues(
            recharge.payment_id.move_id.line_ids.sorted("balance"),
            [
                {"account_id": receivable.id, "debit": 0.0, "credit": 150.0},
                {"account_id": cash.default_account_id.id, "debit": 150.0, "credit": 0.0},
            ],
        )
        # what the print button the tour clicked returns, and the PDF it prints
        action = recharge.with_user(self.manager).action_print_receipt()
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(action["report_type"], "qweb-pdf")
        self.assertEqual(action["report_name"], "prepaid_energy.report_prepaid_recharge_receipt")
        self.assertEqual(action["context"]["active_ids"], recharge.ids)
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_user(self.manager)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(action["report_name"], recharge.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"))
        text = re.sub(
            r"\s+",
            " ",
            " ".join(page.extract_text() for page in PdfFileReader(io.BytesIO(pdf)).pages),
        )
        self.assertEqual(text.count(recharge.name), 3)
        self.assertIn("150.00", text)
        self.assertIn("Harbour Park / 101", text)
        self.assertIn("Lotus Trading Ltd", text)
