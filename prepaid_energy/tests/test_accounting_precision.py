"""Tariff prices keep 4 decimals, invoice quantities the metered kWh: lines equal the charges."""

import datetime

from odoo import Command
from odoo.tests import Form, freeze_time, tagged

from .test_money_common import MoneyCase


@tagged("post_install", "-at_install")
class TestAccountingPrecision(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fine_tariff = cls.env["prepaid.tariff"].create(
            {
                "name": "Shanghai residential",
                "code": "SH-0.6125",
                "version_ids": [
                    Command.create({"date_from": "2020-01-01", "kind": "flat", "price": 0.6125})
                ],
            }
        )
        cls.fine_site = cls._create_site(
            cls.company, "Lujiazui", tz="Asia/Shanghai", default_tariff_id=cls.fine_tariff.id
        )
        cls.fine_unit = cls.env["prepaid.location"].create(
            {"name": "L-8", "location_type": "unit", "parent_id": cls.fine_site.id}
        )
        cls.fine_meter = cls._create_meter("LJZ-0001", cls.fine_unit)
        cls.fine_occupancy = cls.env["prepaid.occupancy"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.fine_unit.id, "date_from": "2020-01-01"}
        )
        cls.fine_occupancy.action_activate()

    def test_odoo_precisions_are_raised_never_lowered(self):
        precision = self.env["decimal.precision"]
        self.assertEqual(precision.precision_get("Prepaid Tariff Price"), 4)
        self.assertGreaterEqual(precision.precision_get("Product Price"), 4)
        self.assertGreaterEqual(precision.precision_get("Product Unit of Measure"), 3)
        self.env.ref("product.decimal_price").digits = 6
        precision._prepaid_raise_invoice_digits()
        self.assertEqual(precision.precision_get("Product Price"), 6)

    def test_invoice_lines_equal_the_priced_charges_to_the_cent(self):
        # Hand-computed, flat 0.6125 CNY/kWh (tax included):
        #   register 1000.0000 -> 1061.8221: 61.8221 kWh x 0.6125 = 37.86603625 -> 37.87
        #   invoice line: 61.822 kWh (3 decimals) x 0.6125 = 37.865975 -> 37.87
        # The line equals the charge: no rounding line. Before, the price was stored as
        # 0.61 (61.8221 x 0.61 = 37.71 charged) and the quantity as 61.82.
        env = self.env(user=self.officer)
        with freeze_time("2025-03-03 02:00:00"):
            with Form(env["prepaid.account.open.wizard"]) as wizard:
                wizard.occupancy_id = self.fine_occupancy.with_env(env)
                with wizard.line_ids.edit(0) as line:
                    line.reading_total = 1000.0
                wizard.first_recharge_amount = 100.0
                wizard.journal_id = self.cash_journal.with_env(env)
            account = self.env["prepaid.account"].browse(wizard.record.action_confirm()["res_id"])
        self.assertEqual(self.fine_tariff.version_ids.price, 0.6125)
        with freeze_time("2025-03-04 02:00:00"):
            self.env["prepaid.reading"]._ingest(
                [
                    {
                        "meter_id": self.fine_meter.id,
                        "timestamp": "2025-03-04 02:00:00",
                        "total": "1061.8221",
                    }
                ]
            )
            self.env["prepaid.meter"].sudo()._cron_price_readings()
        consumption = account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")
        self.assertRecordValues(
            consumption.charge_ids, [{"quantity": 61.8221, "unit_price": 0.6125, "amount": 37.87}]
        )
        self.assertAlmostEqual(consumption.amount, -37.87)
        self.env["prepaid.invoice.wizard"].with_user(self.officer).create(
            {"date_to": datetime.date(2025, 4, 1), "account_ids": [Command.set(account.ids)]}
        ).action_confirm()
        invoice = account.invoice_ids
        self.assertRecordValues(
            invoice.invoice_line_ids,
            [{"quantity": 61.822, "price_unit": 0.6125, "price_total": 37.87}],
        )
        self.assertRecordValues(
            invoice, [{"amount_total": 37.87, "invoice_date": datetime.date(2025, 3, 31)}]
        )
        # 10 % included: 37.87 / 1.1 = 34.43 net, 3.44 tax
        self.assertAlmostEqual(invoice.amount_untaxed, 34.43)
        self.assertAlmostEqual(invoice.amount_tax, 3.44)
        self.assertAlmostEqual(account.balance, 100.0 - 37.87)
