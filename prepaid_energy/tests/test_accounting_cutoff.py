"""Accounting cut-off: periods on the site's clock, invoices dated in their period, grouping."""

import datetime

from odoo import Command
from odoo.tests import Form, freeze_time, new_test_user, tagged

from .test_money_common import MoneyCase

D = datetime.date
UTC = datetime.datetime  # naive UTC, as Odoo stores datetimes


@tagged("post_install", "-at_install")
class TestAccountingCutoff(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Shanghai is UTC+8 all year: local midnight of 1 December is 30 Nov 16:00 UTC.
        cls.sh_site = cls._create_site(cls.company, "Pudong Park", tz="Asia/Shanghai")
        cls.sh_unit = cls.env["prepaid.location"].create(
            {"name": "P-1", "location_type": "unit", "parent_id": cls.sh_site.id}
        )
        cls.sh_meter = cls._create_meter("SH-0001", cls.sh_unit)
        cls.sh_occupancy = cls.env["prepaid.occupancy"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.sh_unit.id, "date_from": "2020-01-01"}
        )
        cls.sh_occupancy.action_activate()

    def _open(self, occupancy, recharge):
        """Open the occupancy's account through the wizard with a first cash recharge."""
        env = self.env(user=self.officer)
        with Form(env["prepaid.account.open.wizard"]) as wizard:
            wizard.occupancy_id = occupancy.with_env(env)
            wizard.first_recharge_amount = recharge
            wizard.journal_id = self.cash_journal.with_env(env)
        action = wizard.record.action_confirm()
        return self.env["prepaid.account"].browse(action["res_id"])

    def _book(self, account, amount, start, end, meter=None):
        """A consumption line as pricing books it: metered from ``start`` to ``end``."""
        return account._post_ledger_lines(
            [
                {
                    "account_id": account.id,
                    "kind": "consumption",
                    "amount": -amount,
                    "meter_id": (meter or account.meter_ids[:1]).id,
                    "date_start": start,
                    "date": end,
                    "description": f"consumption {amount}",
                }
            ]
        )

    def test_a_closing_on_the_first_invoices_each_period_in_its_own_month(self):
        with freeze_time("2025-11-05 02:00:00"):
            account = self._open(self.sh_occupancy, 100.0)
        # November: 20 Nov 10:00 -> 30 Nov 23:00 Shanghai, 40.00
        november = self._book(account, 40.0, UTC(2025, 11, 20, 2), UTC(2025, 11, 30, 15))
        # December: 1 Dec 00:00 -> 06:00 Shanghai (still 30 Nov in UTC), 6.00
        december = self._book(account, 6.0, UTC(2025, 11, 30, 16), UTC(2025, 11, 30, 22))
        with freeze_time("2025-12-01 02:00:00"):  # 10:00 on 1 December in Shanghai
            wizard = (
                self.env["prepaid.account.close.wizard"]
                .with_user(self.officer)
                .create(
                    {
                        "account_id": account.id,
                        "settlement": "refund",
                        "journal_id": self.cash_journal.id,
                        "line_ids": [
                            Command.create({"meter_id": self.sh_meter.id, "reading_total": 0.0})
                        ],
                    }
                )
            )
            wizard.action_confirm()
        invoices = account.invoice_ids.sorted("invoice_date")
        # November's consumption is November's revenue, December's December's; the
        # references give the consumption period in Shanghai dates
        self.assertRecordValues(
            invoices,
            [
                {
                    "invoice_date": D(2025, 11, 30),
                    "amount_total": 40.0,
                    "ref": f"{account.name}: 2025-11-20 - 2025-11-30",
                    "payment_state": "paid",
                },
                {
                    "invoice_date": D(2025, 12, 1),
                    "amount_total": 6.0,
                    "ref": f"{account.name}: 2025-12-01 - 2025-12-01",
                    "payment_state": "paid",
                },
            ],
        )
        self.assertEqual(november.invoice_id, invoices[0])
        self.assertEqual(december.invoice_id, invoices[1])
        closing = account.closing_ids
        self.assertRecordValues(
            closing,
            [
                {
                    "settlement": "refund",
                    "settlement_amount": 54.0,
                    "final_invoice_id": invoices[1].id,
                }
            ],
        )
        self.assertRecordValues(
            self._integrity_row(self.tenant),
            [
                {
                    "advances": 46.0,  # 100.00 paid - 54.00 refunded
                    "invoiced": 46.0,
                    "uninvoiced_charges": 0.0,
                    "wallet_balance": 0.0,
                    "difference": 0.0,
                }
            ],
        )

    def test_the_period_boundary_does_not_depend_on_who_invoices(self):
        new_york = new_test_user(
            self.env,
            login="pe_officer_ny",
            groups="prepaid_energy.group_prepaid_officer",
            tz="America/New_York",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        tokyo = new_test_user(
            self.env,
            login="pe_officer_tokyo",
            groups="prepaid_energy.group_prepaid_officer",
            tz="Asia/Tokyo",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        site = self._create_site(self.company, "No Clock Park", tz=False)
        self.company.partner_id.tz = False
        unit = self.env["prepaid.location"].create(
            {"name": "N-1", "location_type": "unit", "parent_id": site.id}
        )
        occupancy = self.env["prepaid.occupancy"].create(
            {"partner_id": self.tenant.id, "unit_id": unit.id, "date_from": "2020-01-01"}
        )
        occupancy.action_activate()
        meter = self._create_meter("NC-0001", unit)
        with freeze_time("2025-01-10 08:00:00"):
            account = self._open(occupancy, 50.0)
        # metered until 31 January 20:00 UTC: 15:00 that day in New York, but already
        # 1 February 05:00 in Tokyo. Neither user's clock counts: the site has no zone
        # and nor has the company, so the period ends at midnight UTC.
        line = self._book(account, 9.0, UTC(2025, 1, 31, 12), UTC(2025, 1, 31, 20), meter)
        boundaries = {
            account.with_user(user)._period_start_boundary(D(2025, 2, 1))
            for user in (new_york, tokyo, self.officer)
        }
        self.assertEqual(boundaries, {UTC(2025, 2, 1)})
        self.env["prepaid.invoice.wizard"].with_user(tokyo).create(
            {"date_to": D(2025, 2, 1), "account_ids": [Command.set(account.ids)]}
        ).action_confirm()
        self.assertRecordValues(
            line.invoice_id,
            [
                {
                    "invoice_date": D(2025, 1, 31),
                    "amount_total": 9.0,
                    "ref": f"{account.name}: 2025-01-31 - 2025-01-31",
                }
            ],
        )
        # the company's zone applies when the site has none, whoever runs the invoicing
        self.company.partner_id.tz = "Asia/Shanghai"
        boundaries = {
            account.with_user(user)._period_start_boundary(D(2025, 3, 1))
            for user in (new_york, tokyo)
        }
        self.assertEqual(boundaries, {UTC(2025, 2, 28, 16)})

    def test_one_invoice_per_tenant_when_the_site_says_so(self):
        site = self._create_site(self.company, "Tenant Park", invoice_grouping="tenant")
        units = self.env["prepaid.location"].create(
            [
                {"name": name, "location_type": "unit", "parent_id": site.id}
                for name in ("T-1", "T-2", "T-3")
            ]
        )
        other_tenant = self.env["res.partner"].create(
            {"name": "Orchid Studio", "property_account_receivable_id": self.receivable.id}
        )
        accounts = self.env["prepaid.account"]
        for unit, partner in zip(units, (self.tenant, self.tenant, other_tenant)):
            occupancy = self.env["prepaid.occupancy"].create(
                {"partner_id": partner.id, "unit_id": unit.id, "date_from": "2020-01-01"}
            )
            occupancy.action_activate()
            self._create_meter(f"TP-{unit.name}", unit)
            accounts |= self._open(occupancy, 50.0)
        first, second, other = accounts
        # last month on the site's clock (UTC here): the cron's business
        period_start = datetime.datetime.combine(
            datetime.date.today().replace(day=1), datetime.time()
        )
        last_month = period_start - datetime.timedelta(days=3)
        self._book(first, 30.0, last_month, last_month + datetime.timedelta(hours=5))
        self._book(second, 12.0, last_month, last_month + datetime.timedelta(hours=6))
        self._book(other, 5.0, last_month, last_month + datetime.timedelta(hours=7))
        # one account per cron call: a tenant's accounts still travel together
        Account = self.env["prepaid.account"]
        self.assertEqual(Account._cron_invoice_periods(batch_size=1), first | second)
        invoice = first.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(second.invoice_ids, invoice)
        self.assertFalse(other.invoice_ids)
        self.assertRecordValues(
            invoice,
            [
                {
                    "partner_id": self.tenant.id,
                    "amount_total": 42.0,
                    "payment_state": "paid",
                    "prepaid_account_id": first.id,
                }
            ],
        )
        self.assertIn(f"{first.name}, {second.name}: ", invoice.ref)
        self.assertEqual(
            sorted(
                (line.prepaid_account_id.name, line.price_total)
                for line in invoice.invoice_line_ids
            ),
            [(first.name, 30.0), (second.name, 12.0)],
        )
        self.assertEqual(Account._cron_invoice_periods(batch_size=1), other)
        self.assertRecordValues(
            other.invoice_ids, [{"partner_id": other_tenant.id, "amount_total": 5.0}]
        )
        # exact per tenant: 100.00 advanced, 42.00 invoiced, 58.00 in the two wallets
        self.assertRecordValues(
            self._integrity_row(self.tenant),
            [{"advances": 100.0, "invoiced": 42.0, "wallet_balance": 58.0, "difference": 0.0}],
        )
        # a credit note of the tenant's invoice gives each wallet its own part back
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Wrong tenant grouping"})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.action_post()
        self.assertAlmostEqual(first.balance, 50.0)
        self.assertAlmostEqual(second.balance, 50.0)
        self.assertRecordValues(
            self._integrity_row(self.tenant),
            [{"advances": 100.0, "invoiced": 0.0, "wallet_balance": 100.0, "difference": 0.0}],
        )
