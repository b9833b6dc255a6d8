"""Reports and their Excel exports: figures against the database and hand computations,
read back with openpyxl, correct across two companies.

Company 1 (Harbour Park, UTC, flat 0.50 a kWh), account of unit 101:
* 3 March: recharges 100.00 cash and 50.00 bank; 10 March: refund 20.00 cash; 12 March:
  reversal of the 50.00 bank recharge; 2 April: recharge 30.00 cash; a refund of 105.00
  waits for approval (not a sale). March: recharges 150.00, refunds 20.00, reversals
  -50.00, net 80.00; April net 30.00; the year 110.00.
* meter EL-0001 from 0 (1 March 00:00) to 10 (2 March 00:00) and 25 (3 March 00:00):
  10 kWh on 1 March, 15 on 2 March (5.00 and 7.50 at 0.50), no band registers: untimed;
  the common-area meter 100 -> 130 kWh on 2 March 12:00 (metered, not billed).
* rent 300.00 for March from the wallet; a common-area share of 60.00 (manual).
Company 2 (Second Park, UTC, time of use), unit 2-01 in Block B, floor B1: 3 March
(a Monday), band registers read with the total: 06:00 0, 08:00 10 (valley register 10),
10:00 25 (peak register 15): 10 kWh valley (0.40: 4.00) and 15 kWh peak (1.00: 15.00);
recharge 70.00 on 5 March.
"""

import base64
import datetime
import io

import openpyxl
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time, new_test_user, tagged

from .test_fees_common import FeeCase
from .test_property_common import create_tou_tier_tariff

D = datetime.date
UTC = datetime.datetime


@tagged("post_install", "-at_install")
class TestReportExports(FeeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_data_2 = cls.setup_other_company()
        cls.company_2 = cls.company_data_2["company"]
        cls.cash_journal_2 = cls.company_data_2["default_journal_cash"]
        cls.cash_journal_2._prepaid_book_cash_directly()
        tou = create_tou_tier_tariff(
            cls.env, name="TOU 2", code="TOU2", company_id=cls.company_2.id
        )
        Location = cls.env["prepaid.location"].with_company(cls.company_2)
        cls.site_2 = cls._create_site(cls.company_2, "Second Park", default_tariff_id=tou.id)
        building = Location.create(
            {
                "name": "Block B",
                "location_type": "building",
                "parent_id": cls.site_2.id,
                "company_id": cls.company_2.id,
            }
        )
        floor = Location.create(
            {
                "name": "B1",
                "location_type": "floor",
                "parent_id": building.id,
                "company_id": cls.company_2.id,
            }
        )
        cls.unit_2 = Location.create(
            {
                "name": "2-01",
                "location_type": "unit",
                "parent_id": floor.id,
                "company_id": cls.company_2.id,
            }
        )
        cls.meter_2 = cls._create_meter("TOU-2-01", cls.unit_2)
        cls.cashier_2 = new_test_user(
            cls.env,
            login="pe_cashier_c2",
            groups="prepaid_energy.group_prepaid_cashier",
            company_id=cls.company_2.id,
            company_ids=[Command.set(cls.company_2.ids)],
        )
        cls.officer_1 = cls.officer  # of company 1 only
        cls.both_companies = cls.env["res.users"].browse(cls.env.uid)  # sees both

    def _open_at(self, meter, partner, unit, moment, company, bands=None):
        self._readings(meter, [(moment, 0.0, bands or {})])
        account = (
            self.env["prepaid.account"]
            .with_company(company)
            .create({"partner_id": partner.id, "unit_id": unit.id, "company_id": company.id})
        )
        with freeze_time(moment):
            account.write({"state": "open", "date_open": moment})
            meter._open_on_account(account, meter.last_reading_id)
        return account

    def _build(self):
        self.account = self._open_at(
            self.meter, self.tenant, self.unit, UTC(2025, 3, 1), self.company
        )
        no_band = {"sharp": 0.0, "peak": 0.0, "flat": 0.0, "valley": 0.0}
        self.account_2 = self._open_at(
            self.meter_2, self.tenant2, self.unit_2, UTC(2025, 3, 3, 6), self.company_2, no_band
        )
        with freeze_time("2025-03-03 09:00:00"):
            self._recharge(self.account, 100.0)
            bank = self._recharge(self.account, 50.0, journal_id=self.bank_journal.id)
        with freeze_time("2025-03-05 09:00:00"):
            self._recharge(
                self.account_2, 70.0, user=self.cashier_2, journal_id=self.cash_journal_2.id
            )
        with freeze_time("2025-03-10 09:00:00"):
            self._recharge(self.account, 20.0, operation="refund")
        with freeze_time("2025-03-12 09:00:00"):
            self._recharge(self.account, 50.0, operation="reversal", reversed_recharge_id=bank.id)
        with freeze_time("2025-04-02 09:00:00"):
            self._recharge(self.account, 30.0)
            waiting = self._recharge(self.account, 105.0, operation="refund")
        self.assertEqual(waiting.state, "to_approve")
        self._readings(self.meter, [(UTC(2025, 3, 2), 10.0), (UTC(2025, 3, 3), 25.0)])
        self._readings(self.common_meter, [(UTC(2025, 3, 1), 100.0), (UTC(2025, 3, 2, 12), 130.0)])
        self._readings(
            self.meter_2,
            [
                (UTC(2025, 3, 3, 8), 10.0, {**no_band, "valley": 10.0}),
                (UTC(2025, 3, 3, 10), 25.0, {**no_band, "peak": 15.0, "valley": 10.0}),
            ],
        )
        (self.meter | self.meter_2).sudo()._price_new_readings()
        rent = self._scheme(name="Rent", fee_type="rent", basis="fixed", amount=300.0)
        with freeze_time("2025-03-05 09:00:00"):
            self._subscribe(
                self.account, rent, D(2025, 3, 1), date_end=D(2025, 3, 31)
            )._post_due_charges()
        rule = self.env["prepaid.apportionment.rule"].create(
            {
                "name": "Lobby",
                "site_id": self.site.id,
                "line_ids": [Command.create({"unit_id": self.unit.id})],
            }
        )
        run = self.env["prepaid.apportionment.run"].create(
            {
                "rule_id": rule.id,
                "period_start": D(2025, 3, 1),
                "period_end": D(2025, 3, 31),
                "source": "manual",
                "master_amount": 60.0,
            }
        )
        run.action_compute()
        run.action_post()

    # ------------------------------------------------------------------ helpers

    def _export(self, user, report, companies=None, **values):
        env = self.env(user=user)
        if companies:
            env = env(context=dict(env.context, allowed_company_ids=companies.ids))
        wizard = env["prepaid.report.export"].create(
            {"report": report, "date_from": D(2025, 3, 1), "date_to": D(2025, 12, 31), **values}
        )
        action = wizard.action_export()
        self.assertIn(f"/web/content/prepaid.report.export/{wizard.id}/file_data/", action["url"])
        data = base64.b64decode(wizard.file_data)
        return openpyxl.load_workbook(io.BytesIO(data), data_only=True), openpyxl.load_workbook(
            io.BytesIO(data)
        )

    @staticmethod
    def _table(sheet, first_header):
        """(header, data rows as dicts, totals row as dict or None) of a sheet."""
        rows = list(sheet.iter_rows(values_only=True))
        start = next(index for index, row in enumerate(rows) if row[0] == first_header)
        header = rows[start]
        body, total = [], None
        for row in rows[start + 1 :]:
            if row[0] == "Total":
                total = dict(zip(header, row))
                break
            body.append(dict(zip(header, row)))
        return header, body, total

    # ------------------------------------------------------------------ the tests

    def test_sales_per_day_month_and_year_net_of_refunds(self):
        self._build()
        Report = self.env["prepaid.sales.report"].with_user(self.officer_1)
        by_month = dict(Report._read_group([], ["date:month"], ["net_amount:sum"]))
        self.assertEqual(by_month, {D(2025, 3, 1): 80.0, D(2025, 4, 1): 30.0})
        values, formulas = self._export(self.officer_1, "sales", granularity="month")
        sheet = values["Sales"]
        self.assertEqual(sheet.freeze_panes, "A6")  # title, companies, period, blank, header
        header, body, total = self._table(sheet, "Period")
        self.assertEqual(
            [
                (
                    row["Period"].date(),
                    row["Channel"],
                    row["Recharges"],
                    row["Refunds"],
                    row["Reversals"],
                    row["Net of refunds"],
                )
                for row in body
            ],
            [
                (D(2025, 3, 1), "Bank", 50.0, 0.0, -50.0, 0.0),
                (D(2025, 3, 1), "Cash", 100.0, 20.0, 0.0, 80.0),
                (D(2025, 4, 1), "Cash", 30.0, 0.0, 0.0, 30.0),
            ],
        )
        # totals against the database: every booked document, not the one waiting
        done = self.env["prepaid.recharge"].search(
            [("state", "=", "done"), ("company_id", "=", self.company.id)]
        )
        self.assertEqual(total["Net of refunds"], sum(done.mapped("wallet_amount")))
        self.assertEqual(total["Net of refunds"], 110.0)
        self.assertEqual(total["Documents"], 5)
        self.assertEqual(formulas["Sales"]["I9"].value, "=SUBTOTAL(9,I6:I8)")
        self.assertEqual(sheet["I6"].number_format, "#,##0.00")
        # the detail sheet lists the documents, each on its day
        _header, documents, doc_total = self._table(values["Documents"], "Day")
        self.assertEqual(len(documents), 5)
        self.assertEqual(doc_total["Net of refunds"], 110.0)
        # daily and yearly buckets of the same rows
        daily = self._table(
            self._export(self.officer_1, "sales", granularity="day")[0]["Sales"], "Period"
        )
        self.assertEqual(
            [(row["Period"].date(), row["Net of refunds"]) for row in daily[1]],
            [
                (D(2025, 3, 3), 50.0),
                (D(2025, 3, 3), 100.0),
                (D(2025, 3, 10), -20.0),
                (D(2025, 3, 12), -50.0),
                (D(2025, 4, 2), 30.0),
            ],
        )
        yearly = self._table(
            self._export(self.officer_1, "sales", granularity="year")[0]["Sales"], "Period"
        )
        self.assertEqual(sum(row["Net of refunds"] for row in yearly[1]), 110.0)
        self.assertEqual({row["Period"].date() for row in yearly[1]}, {D(2025, 1, 1)})

    def test_reports_stay_in_their_company_and_add_up_across_both(self):
        self._build()
        both = (self.company | self.company_2).ids
        # a user of company 1 only: whatever the domain asks, company 1's rows
        for model in ("prepaid.sales.report", "prepaid.income.report", "prepaid.energy.report"):
            rows = self.env[model].with_user(self.officer_1).search([("company_id", "in", both)])
            self.assertEqual(rows.company_id, self.company, model)
        values, _formulas = self._export(self.officer_1, "sales")
        _header, body, total = self._table(values["Sales"], "Period")
        self.assertEqual({row["Company"] for row in body}, {self.company.name})
        self.assertEqual(total["Net of refunds"], 110.0)
        # a user of both companies sees both, each under its own name
        values, _formulas = self._export(
            self.both_companies, "sales", companies=self.company | self.company_2
        )
        _header, body, total = self._table(values["Sales"], "Period")
        self.assertEqual(total["Net of refunds"], 180.0)
        self.assertEqual(
            sum(row["Net of refunds"] for row in body if row["Company"] == self.company_2.name),
            70.0,
        )
        values, _formulas = self._export(
            self.both_companies, "income", companies=self.company | self.company_2
        )
        _header, body, total = self._table(values["Income by source"], "Period")
        # company 1: 12.50 + 300.00 + 60.00; company 2: 4.00 + 15.00
        self.assertEqual(total["Amount"], 391.5)
        self.assertEqual(
            sum(row["Amount"] for row in body if row["Company"] == self.company_2.name), 19.0
        )
        # and the company 2 cashier's own view of the sales
        rows = self.env["prepaid.sales.report"].with_user(self.cashier_2)
        self.assertFalse(rows.check_access_rights("read", raise_exception=False))

    def test_income_by_source(self):
        self._build()
        Income = self.env["prepaid.income.report"].with_user(self.officer_1)
        by_source = dict(Income._read_group([], ["source"], ["amount:sum"]))
        # electricity 5.00 + 7.50, the March rent, the common-area share
        self.assertEqual(by_source, {"electricity": 12.5, "fee": 300.0, "common_area": 60.0})
        values, _formulas = self._export(self.officer_1, "income", granularity="month")
        _header, body, total = self._table(values["Income by source"], "Period")
        self.assertEqual(
            sorted((row["Source"], row["Fee type"], row["Amount"]) for row in body),
            [("Common areas", None, 60.0), ("Electricity", None, 12.5), ("Fees", "Rent", 300.0)],
        )
        self.assertEqual(total["Amount"], 372.5)
        self.assertEqual(total["Quantity"], 25.0)

    def test_energy_by_location_per_day_with_the_time_of_use_split(self):
        self._build()
        values, _formulas = self._export(
            self.both_companies, "energy", companies=self.company | self.company_2
        )
        _header, body, total = self._table(values["Energy by location"], "Period")
        rows = {(row["Period"].date(), row["Meter"]): row for row in body}
        tou = rows[(D(2025, 3, 3), "TOU-2-01")]
        self.assertEqual(
            (tou["Site"], tou["Building"], tou["Floor"], tou["Unit or area"]),
            (
                "Second Park",
                "Second Park / Block B",
                "Second Park / Block B / B1",
                "Second Park / Block B / B1 / 2-01",
            ),
        )
        self.assertEqual(
            (tou["Total"], tou["Peak"], tou["Valley"], tou["Untimed"]), (25.0, 15.0, 10.0, 0.0)
        )
        self.assertEqual(rows[(D(2025, 3, 1), "EL-0001")]["Untimed"], 10.0)
        self.assertEqual(rows[(D(2025, 3, 2), "EL-0001")]["Total"], 15.0)
        common = rows[(D(2025, 3, 2), "EL-COMMON")]
        self.assertEqual((common["Total"], common["Untimed"]), (30.0, 30.0))
        # totals against the database: every accepted reading's consumption
        readings = self.env["prepaid.reading"].search([("state", "!=", "rejected")])
        self.assertAlmostEqual(total["Total"], sum(readings.mapped("delta")))
        self.assertEqual(total["Total"], 80.0)  # 10 + 15 + 30 + 25
        self.assertEqual((total["Peak"], total["Valley"], total["Untimed"]), (15.0, 10.0, 55.0))
        # what the TOU meter's charges priced agrees with its band registers
        self.assertEqual(
            sorted(
                (charge.band, charge.quantity, charge.amount) for charge in self.meter_2.charge_ids
            ),
            [("peak", 15.0, 15.0), ("valley", 10.0, 4.0)],
        )

    def test_alarms_readings_integrity_and_audit_exports(self):
        self._build()
        values, _formulas = self._export(self.officer_1, "alarms")
        _header, body, _total = self._table(values["Alarm history"], "When (site time)")
        events = self.env["prepaid.alarm.event"].search(
            [("company_id", "=", self.company.id)], order="date, id"
        )
        self.assertEqual(len(body), len(events))
        self.assertEqual(
            [row["To"] for row in body],
            [dict(events._fields["level"].selection)[e.level] for e in events],
        )
        self.assertEqual(body[0]["From"], "Normal")
        self.assertEqual(body[0]["To"], "Arrears")  # opened at 0.00

        with self.assertRaisesRegex(UserError, "Choose the meters"):
            self._export(self.officer_1, "readings")
        values, _formulas = self._export(
            self.officer_1, "readings", meter_ids=[Command.set(self.meter.ids)]
        )
        sheet = values["EL-0001"]
        _header, body, total = self._table(sheet, "Read at (site time)")
        self.assertEqual([row["Total register"] for row in body], [0.0, 10.0, 25.0])
        self.assertEqual(total["Consumption"], sum(self.meter.reading_ids.mapped("delta")))
        self.assertEqual(total["Consumption"], 25.0)
        self.assertEqual(sheet["B6"].number_format, "#,##0.0000")

        values, _formulas = self._export(self.officer_1, "integrity")
        _header, body, total = self._table(values["Wallet - accounting integrity"], "Tenant")
        rows = self.env["prepaid.integrity.report"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(body), len(rows))
        self.assertEqual(total["Wallet balance"], sum(rows.mapped("wallet_balance")))
        self.assertEqual(total["Difference"], 0.0)

        values, _formulas = self._export(self.manager, "audit")
        _header, body, total = self._table(values["Operator audit"], "When")
        entries = self.env["prepaid.audit.log"].search(
            [
                ("company_id", "=", self.company.id),
                ("date", ">=", UTC(2025, 3, 1)),
                ("date", "<", UTC(2026, 1, 1)),
            ]
        )
        self.assertEqual(len(body), len(entries))
        self.assertIn("Recharge", {row["Action"] for row in body})
        self.assertIsNone(total)  # no totals on an audit

    def test_trends_month_on_month(self):
        self._build()
        env = self.env(user=self.officer_1)
        wizard = env["prepaid.trend.wizard"].create(
            {"metric": "sales", "month_from": D(2025, 3, 1), "month_to": D(2025, 4, 1)}
        )
        wizard.action_compute()
        # March 80.00 after nothing; April 30.00 after 80.00: -50.00, -62.50 %
        self.assertEqual(
            [
                (line.month, line.value, line.mom_change, line.mom_defined, line.mom_percent)
                for line in wizard.line_ids
            ],
            [(D(2025, 3, 1), 80.0, 80.0, False, 0.0), (D(2025, 4, 1), 30.0, -50.0, True, -62.5)],
        )
        wizard.action_export()
        book = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(wizard.file_data)), data_only=True
        )
        _header, body, total = self._table(book["Trends"], "Month")
        self.assertEqual([row["Change (%)"] for row in body], [None, -62.5])
        self.assertEqual(total["This month"], 110.0)
