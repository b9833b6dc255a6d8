"""A full money scenario on a new company with the Chinese chart of accounts (l10n_cn).

Runs only where l10n_cn is installed (``account.chart.template.try_loading('cn')``
needs it), for example on a database made with ``-i l10n_cn``; elsewhere it is
skipped and says so. The independent check that found the rounding defects ran
this kind of scenario: CNY, VAT 13 % included in the price (the chart sets the
company's prices tax included), a tariff of 0.6125 CNY/kWh.
"""

import datetime
import unittest

from odoo import Command
from odoo.tests import Form, TransactionCase, freeze_time, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestAccountingChartCn(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.env["ir.module.module"]._get("l10n_cn").state != "installed":
            raise unittest.SkipTest(
                "l10n_cn is not installed: the Chinese chart scenario runs on a database "
                "with l10n_cn (e.g. the pe_cn template)"
            )
        cls.company = cls.env["res.company"].create({"name": "Pudong Property Management"})
        cls.env["account.chart.template"].try_loading("cn", cls.company, install_demo=False)
        cls.env = cls.env(context={"allowed_company_ids": cls.company.ids})
        cls.company.partner_id.tz = "Asia/Shanghai"
        users = {
            role: new_test_user(
                cls.env,
                login=f"pe_cn_{role}",
                groups=f"prepaid_energy.group_prepaid_{role},account.group_account_invoice",
                company_id=cls.company.id,
                company_ids=[Command.set(cls.company.ids)],
            )
            for role in ("officer", "manager")
        }
        cls.officer, cls.manager = users["officer"], users["manager"]
        cls.bank = cls.env["account.journal"].search(
            [("company_id", "=", cls.company.id), ("type", "=", "bank")], limit=1
        )
        # l10n_cn leaves the bank's payment methods without outstanding accounts: the
        # accountant books them straight to the bank account, as the error message says
        (
            cls.bank.inbound_payment_method_line_ids[:1]
            | cls.bank.outbound_payment_method_line_ids[:1]
        ).payment_account_id = cls.bank.default_account_id
        env = cls.env(user=cls.manager)
        cls.tariff = env["prepaid.tariff"].create(
            {
                "name": "Shanghai residential",
                "company_id": cls.company.id,
                "version_ids": [
                    Command.create({"date_from": "2025-01-01", "kind": "flat", "price": 0.6125})
                ],
            }
        )
        cls.site = env["prepaid.location"].create(
            {
                "name": "Pudong Garden",
                "location_type": "site",
                "company_id": cls.company.id,
                "tz": "Asia/Shanghai",
                "alarm1_amount": 50.0,
                "alarm2_amount": 20.0,
                "refund_approval_amount": 100.0,
                "default_tariff_id": cls.tariff.id,
            }
        )
        cls.unit = env["prepaid.location"].create(
            {"name": "3-1201", "location_type": "unit", "parent_id": cls.site.id}
        )
        cls.meter = env["prepaid.meter"].create(
            {"serial": "CN-0001", "unit_id": cls.unit.id, "company_id": cls.company.id}
        )
        cls.tenant = cls.env["res.partner"].create({"name": "王先生 (Mr Wang)"})
        # as the superuser: opening an occupancy marks the partner a tenant (Contacts rights)
        cls.occupancy = cls.env["prepaid.occupancy"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.unit.id, "date_from": "2025-01-01"}
        )
        cls.occupancy.action_activate()

    def test_recharge_consume_invoice_and_close_in_cny(self):
        self.assertEqual(self.company.currency_id.name, "CNY")
        env = self.env(user=self.officer)
        # 3 March 2025, 10:00 Shanghai: open at register 1000 with a bank recharge of 100
        with freeze_time("2025-03-03 02:00:00"):
            with Form(env["prepaid.account.open.wizard"]) as wizard:
                wizard.occupancy_id = self.occupancy.with_env(env)
                with wizard.line_ids.edit(0) as line:
                    line.reading_total = 1000.0
                wizard.first_recharge_amount = 100.0
                wizard.journal_id = self.bank.with_env(env)
            account = self.env["prepaid.account"].browse(wizard.record.action_confirm()["res_id"])
        # 4 March: 61.8221 kWh x 0.6125 = 37.86603625 -> 37.87 CNY
        with freeze_time("2025-03-04 02:00:00"):
            self.env["prepaid.reading"]._ingest(
                [
                    {
                        "meter_id": self.meter.id,
                        "timestamp": "2025-03-04 02:00:00",
                        "total": "1061.8221",
                    }
                ]
            )
            self.env["prepaid.meter"].sudo()._cron_price_readings()
        self.assertAlmostEqual(account.balance, 62.13)
        # March invoiced on 1 April: 61.822 kWh x 0.6125 = 37.865975 -> 37.87, no rounding line
        env["prepaid.invoice.wizard"].create(
            {"date_to": datetime.date(2025, 4, 1), "account_ids": [Command.set(account.ids)]}
        ).action_confirm()
        invoice = account.invoice_ids
        self.assertRecordValues(
            invoice,
            [
                {
                    "invoice_date": datetime.date(2025, 3, 31),
                    "currency_id": self.company.currency_id.id,
                    "amount_total": 37.87,
                }
            ],
        )
        # consumption up to 4 March, Shanghai date (its start is the pricing side's
        # date_start: the first interval priced)
        self.assertTrue(invoice.ref.startswith(f"{account.name}: 2025-03-0"))
        self.assertTrue(invoice.ref.endswith(" - 2025-03-04"))
        self.assertRecordValues(
            invoice.invoice_line_ids,
            [{"quantity": 61.822, "price_unit": 0.6125, "price_total": 37.87}],
        )
        # what the chart's VAT makes of it: included in the price, so the total stays
        taxes = invoice.invoice_line_ids.tax_ids
        self.assertEqual([(tax.amount, tax.price_include) for tax in taxes], [(13.0, True)])
        # 37.87 / 1.13 = 33.513... -> 33.51 net, 4.36 VAT
        self.assertAlmostEqual(invoice.amount_untaxed, 33.51)
        self.assertAlmostEqual(invoice.amount_tax, 4.36)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # 2 April: the tenant leaves; the 62.13 left is refunded to the bank
        with freeze_time("2025-04-02 02:00:00"):
            self.env["prepaid.account.close.wizard"].with_user(self.officer).create(
                {
                    "account_id": account.id,
                    "settlement": "refund",
                    "journal_id": self.bank.id,
                    "line_ids": [
                        Command.create({"meter_id": self.meter.id, "reading_total": 1061.8221})
                    ],
                }
            ).action_confirm()
        self.assertEqual(account.state, "closed")
        self.assertAlmostEqual(account.balance, 0.0)
        self.assertAlmostEqual(account.closing_ids.settlement_amount, 62.13)
        report = self.env["prepaid.integrity.report"]
        report.invalidate_model()
        self.assertRecordValues(
            report.search(
                [("partner_id", "=", self.tenant.id), ("company_id", "=", self.company.id)]
            ),
            [
                {
                    "advances": 37.87,  # 100.00 paid - 62.13 refunded
                    "invoiced": 37.87,
                    "uninvoiced_charges": 0.0,
                    "wallet_balance": 0.0,
                    "difference": 0.0,
                }
            ],
        )
