"""Common areas shared among units, and the master bill against the sub-meters.

Figures of March 2025 (site on UTC):
* the common-area meter counts 1000 -> 1300 (15 March) -> 1600.5 (1 April 00:00):
  600.5 kWh; at 0.80 a kWh, 480.40;
* unit 101 (120.50 m², Lotus) uses 300 kWh, unit 102 (30 m², Peony) 100 kWh, unit 103
  (20 m², vacant) 50 kWh: the sub-meters total 300 + 100 + 50 + 600.5 = 1050.5 kWh.
"""

import datetime

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .test_fees_common import FeeCase

D = datetime.date
UTC = datetime.datetime


@tagged("post_install", "-at_install")
class TestApportionment(FeeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time("2025-02-20 08:00:00"):
            cls.account = cls._open_class_account(cls.occupancy)
            cls.account2 = cls._open_class_account(cls.occupancy2)

    def _march_readings(self):
        self._readings(
            self.common_meter,
            [(UTC(2025, 3, 1), 1000.0), (UTC(2025, 3, 15), 1300.0), (UTC(2025, 4, 1), 1600.5)],
        )
        self._readings(self.meter, [(UTC(2025, 3, 31, 12), 300.0)])
        self._readings(self.meter2, [(UTC(2025, 3, 31, 12), 100.0)])
        self._readings(self.meter3, [(UTC(2025, 3, 1), 0.0), (UTC(2025, 3, 31, 12), 50.0)])
        # April's first days count in April, not in March
        self._readings(self.common_meter, [(UTC(2025, 4, 2), 1700.0)])

    def _rule(self, method="area", **values):
        rule = (
            self.env["prepaid.apportionment.rule"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Corridors and lifts",
                    "site_id": self.site.id,
                    "method": method,
                    "price_unit": 0.8,
                    "meter_ids": [(6, 0, self.common_meter.ids)],
                    **values,
                }
            )
        )
        rule.action_add_units()
        return rule.with_env(self.env)

    def _run(self, rule, **values):
        run = (
            self.env["prepaid.apportionment.run"]
            .with_user(self.officer)
            .create(
                {
                    "rule_id": rule.id,
                    "period_start": D(2025, 3, 1),
                    "period_end": D(2025, 3, 31),
                    **values,
                }
            )
        )
        run.action_compute()
        return run.with_env(self.env)

    def _shares(self, run):
        return [
            (share.unit_id.code, share.quantity, share.amount, share.landlord, share.skipped)
            for share in run.share_ids.sorted(lambda share: share.unit_id.code)
        ]

    def test_by_area_vacant_units_skipped_then_posted_to_the_wallets(self):
        self._march_readings()
        rule = self._rule()
        self.assertEqual(rule.line_ids.unit_id, self.unit | self.unit2 | self.unit3)
        run = self._run(rule)
        self.assertRecordValues(
            run,
            [
                {
                    "master_quantity": 600.5,
                    "master_amount": 480.4,  # 600.5 x 0.80
                    "method": "area",
                    "vacant_policy": "skip",
                    "state": "computed",
                }
            ],
        )
        # the occupied 120.50 + 30 m² share it all: 480.40 x 120.5 / 150.5 = 384.6333,
        # x 30 / 150.5 = 95.7608; floors 384.63 + 95.76 = 480.39, the missing cent to the
        # larger remainder (0.33 > 0.08): 384.64. kWh: 600.5 x 120.5 / 150.5 = 480.7990,
        # x 30 / 150.5 = 119.7010 -> 480.799 + 119.701 = 600.500
        self.assertEqual(
            self._shares(run),
            [
                ("101", 480.799, 384.64, False, False),
                ("102", 119.701, 95.76, False, False),
                ("103", 0.0, 0.0, False, True),
            ],
        )
        self.assertAlmostEqual(sum(run.share_ids.mapped("amount")), 480.4)
        self.assertEqual(run.share_ids.filtered("skipped").account_id, self.env["prepaid.account"])
        balances = (self.account.balance, self.account2.balance)
        run.with_user(self.officer).action_post()
        self.assertEqual(run.state, "posted")
        self.assertAlmostEqual(self.account.balance, balances[0] - 384.64)
        self.assertAlmostEqual(self.account2.balance, balances[1] - 95.76)
        lines = run.share_ids.ledger_line_id
        self.assertEqual(lines.mapped("kind"), ["fee", "fee"])
        self.assertEqual(lines.product_id, self.env.ref("prepaid_energy.product_common_area"))
        self.assertEqual(set(lines.mapped("date_start")), {UTC(2025, 3, 1)})
        # its line says what share of what it is: 30 / 150.5 = 19.93 %
        self.assertEqual(
            self.account2.ledger_line_ids[:1].description,
            "Corridors and lifts 2025-03-01 - 2025-03-31: 19.93 % of 480.40",
        )
        with self.assertRaisesRegex(UserError, "cannot"):
            run.action_compute()
        with self.assertRaisesRegex(UserError, "Compute the apportionment"):
            run.action_post()  # never twice
        # the statement a tenant gets: method, master figure, every unit's share
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "prepaid_energy.action_report_prepaid_apportionment_statement",
            run.share_ids.filtered("account_id").ids,
        )
        text = html.decode()
        for expected in ("By area", "600.500", "480.40", "384.64", "95.76", "Vacant: skipped"):
            self.assertIn(expected, text)
        # invoiced with the period, reconciled with the advances
        self._recharge(self.account, 500.0)
        invoices = self.account.sudo()._invoice_periods(until=D(2025, 4, 1))
        self.assertEqual(invoices.mapped("amount_total"), [384.64])
        self.assertEqual(invoices.invoice_line_ids.product_id.default_code, "PE-COMMON")

    def test_vacant_units_charged_to_the_landlord(self):
        self._march_readings()
        self.site.with_user(self.manager).apportion_vacant_policy = "landlord"
        run = self._run(self._rule())
        # 480.40 over 120.5 + 30 + 20 = 170.5 m²: 339.5202, 84.5279, 56.3519; floors sum to
        # 480.39 and the cent goes to the largest remainder (102: 0.79): 84.53
        self.assertEqual(
            self._shares(run),
            [
                ("101", 424.4, 339.52, False, False),
                ("102", 105.66, 84.53, False, False),
                ("103", 70.44, 56.35, True, False),
            ],
        )
        self.assertAlmostEqual(run.landlord_amount, 56.35)
        self.assertAlmostEqual(run.tenants_amount, 424.05)
        run.action_post()
        self.assertEqual(len(run.share_ids.ledger_line_id), 2)  # the landlord's is not a wallet's

    def test_by_consumption_share_fixed_percent_and_equal(self):
        self._march_readings()
        # own consumption 300 and 100 kWh (103 vacant, skipped): 480.40 x 3/4 = 360.30
        share = self._run(self._rule("consumption"))
        self.assertEqual(
            [(s[0], s[1], s[2]) for s in self._shares(share)],
            [("101", 450.375, 360.3), ("102", 150.125, 120.1), ("103", 0.0, 0.0)],
        )
        self.assertEqual(share.share_ids.sorted("unit_id").mapped("weight")[:2], [300.0, 100.0])
        rule = self._rule("fixed_percent", name="Lift")
        for line, percent in zip(
            rule.line_ids.sorted(lambda rule_line: rule_line.unit_id.code), (60, 25, 15)
        ):
            line.percent = percent
        # 60 and 25 % among the occupied: 480.40 x 60/85 = 339.1059, x 25/85 = 141.2941;
        # floors 339.10 + 141.29 = 480.39, the cent to the larger remainder (0.59): 339.11
        fixed = self._run(rule)
        self.assertEqual([s[2] for s in self._shares(fixed)], [339.11, 141.29, 0.0])
        equal = self._run(self._rule("equal", name="Pump"))
        self.assertEqual([s[2] for s in self._shares(equal)], [240.2, 240.2, 0.0])
        rule.line_ids.sorted(lambda rule_line: rule_line.unit_id.code)[0].percent = 50
        with self.assertRaisesRegex(UserError, "add up to 90.0 %, not 100 %"):
            self._run(rule)

    def test_nothing_to_share_or_nobody_to_charge(self):
        rule = self._rule()
        rule.meter_ids = False
        run = self.env["prepaid.apportionment.run"].create(
            {"rule_id": rule.id, "period_start": D(2025, 3, 1), "period_end": D(2025, 3, 31)}
        )
        with self.assertRaisesRegex(UserError, "has no common-area meter"):
            run.action_compute()
        self.assertFalse(run.share_ids)
        (self.account | self.account2).sudo().write({"state": "closed"})
        run.write({"source": "manual", "master_amount": 100.0, "master_quantity": 10.0})
        with self.assertRaisesRegex(Exception, "every unit is vacant"):
            run.action_compute()
        self.assertEqual(run.state, "draft")

    def test_master_bill_loss_flag_and_apportioned_loss(self):
        self._march_readings()
        supplier = self.env["res.partner"].create({"name": "City Grid"})
        bill = (
            self.env["prepaid.master.bill"]
            .with_user(self.officer)
            .create(
                {
                    "name": "Grid 2025-03",
                    "site_id": self.site.id,
                    "period_start": D(2025, 3, 1),
                    "period_end": D(2025, 3, 31),
                    "quantity": 1100.0,
                    "amount": 715.0,
                    "supplier_id": supplier.id,
                }
            )
            .with_env(self.env)
        )
        bill.action_compute_loss()
        # 1100 - (300 + 100 + 50 + 600.5) = 49.5 kWh; 49.5 / 1100 = 4.50 %, under the
        # site's 5 %; at the bill's 715.00 / 1100 = 0.65 a kWh the loss cost 32.175 -> 32.18
        self.assertRecordValues(
            bill,
            [
                {
                    "metered_quantity": 1050.5,
                    "loss_quantity": 49.5,
                    "loss_percent": 4.5,
                    "loss_cost": 32.18,
                    "loss_threshold": 5.0,
                    "loss_status": "ok",
                    "is_flagged": False,
                    "meter_count": 4,
                }
            ],
        )
        self.site.with_user(self.manager).loss_alert_percent = 4.0
        bill.action_compute_loss()
        self.assertEqual((bill.loss_status, bill.is_flagged), ("high", True))
        self.assertIn("bypass or theft", bill.message_ids[0].body)
        # the accountant's vendor bill: 1100 kWh at 0.65
        bill.action_create_vendor_bill()
        self.assertRecordValues(
            bill.vendor_bill_id,
            [{"move_type": "in_invoice", "partner_id": supplier.id, "amount_total": 715.0}],
        )
        self.assertEqual(bill.vendor_bill_id.invoice_line_ids.quantity, 1100.0)
        # the loss shared by area among the occupied units: 32.18 x 120.5 / 150.5 = 25.7652,
        # x 30 / 150.5 = 6.4146; floors 25.76 + 6.41, the cent to 101 (0.52 > 0.46)
        run = self._run(self._rule(), source="loss", master_bill_id=bill.id)
        self.assertEqual(
            [(s[0], s[1], s[2]) for s in self._shares(run)],
            [("101", 39.633, 25.77), ("102", 9.867, 6.41), ("103", 0.0, 0.0)],
        )
        # a master bill below its sub-meters is flagged too
        bill.quantity = 1000.0
        bill.action_compute_loss()
        self.assertRecordValues(
            bill, [{"loss_quantity": -50.5, "loss_percent": -5.05, "loss_status": "negative"}]
        )
