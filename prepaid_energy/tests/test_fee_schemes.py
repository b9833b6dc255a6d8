"""Fee schemes: proration and per-area amounts with worked examples, wallet deduction and
invoicing reconciled in the books, overdue fees, the preview, the cron."""

import datetime

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .test_fees_common import FeeCase

D = datetime.date


@tagged("post_install", "-at_install")
class TestFeeSchemes(FeeCase):
    def _rent(self, **values):
        return self._scheme(
            **{
                "name": "Office rent",
                "fee_type": "rent",
                "basis": "fixed",
                "amount": 300.0,
                "periodicity": "monthly",
                "collection": "wallet",
                **values,
            }
        )

    def test_prorated_rent_deducted_from_the_wallet_and_invoiced_with_the_period(self):
        with freeze_time("2025-03-10 08:00:00"):
            account = self._open_for(self.occupancy, recharge=1000.0)
        rent = self._rent()
        self.assertEqual(rent.product_id, self.env.ref("prepaid_energy.product_rent"))
        subscription = self._subscribe(account, rent, D(2025, 3, 17))
        with freeze_time("2025-05-01 08:00:00"):
            action = account.with_user(self.officer).action_preview_fees()
            wizard = self.env["prepaid.fee.preview.wizard"].browse(action["res_id"])
            # 300.00 a month from 17 March: 17-31 March is 15 of 31 days,
            # 300 x 15 / 31 = 145.1613 -> 145.16; April and May whole; June (1 June is
            # within the 31 days the preview looks ahead) is not due yet
            self.assertEqual(
                [
                    (line.date_from, line.date_to, line.amount, line.computation, line.is_due)
                    for line in wizard.line_ids
                ],
                [
                    (D(2025, 3, 17), D(2025, 3, 31), 145.16, "300.00 x 15/31 days", True),
                    (D(2025, 4, 1), D(2025, 4, 30), 300.0, "300.00", True),
                    (D(2025, 5, 1), D(2025, 5, 31), 300.0, "300.00", True),
                    (D(2025, 6, 1), D(2025, 6, 30), 300.0, "300.00", False),
                ],
            )
            self.assertEqual(wizard.due_amount, 745.16)
            self.assertFalse(account.fee_charge_ids, "a preview posts nothing")
            wizard.action_post_due()
            # posting again finds nothing left to charge: no period twice
            self.assertFalse(subscription._post_due_charges())
        charges = account.fee_charge_ids.sorted("date_from")
        self.assertEqual(charges.mapped("amount"), [145.16, 300.0, 300.0])
        self.assertEqual(charges.mapped("state"), ["deducted"] * 3)
        self.assertEqual(subscription.charged_until, D(2025, 5, 31))
        self.assertEqual(subscription.next_charge_date, D(2025, 6, 1))
        self.assertAlmostEqual(account.balance, 1000.0 - 745.16)
        lines = charges.ledger_line_id.sorted("date_start")
        self.assertEqual(lines.mapped("kind"), ["fee"] * 3)
        self.assertEqual(lines.mapped("amount"), [-145.16, -300.0, -300.0])
        # cut-off: each fee belongs to the period of its first day
        self.assertEqual(
            lines.mapped("date_start"),
            [
                datetime.datetime(2025, 3, 17),
                datetime.datetime(2025, 4, 1),
                datetime.datetime(2025, 5, 1),
            ],
        )
        invoices = account.sudo()._invoice_periods(until=D(2025, 6, 1))
        self.assertRecordValues(
            invoices.sorted("invoice_date"),
            [
                {"invoice_date": D(2025, 3, 31), "amount_total": 145.16, "payment_state": "paid"},
                {"invoice_date": D(2025, 4, 30), "amount_total": 300.0, "payment_state": "paid"},
                {"invoice_date": D(2025, 5, 31), "amount_total": 300.0, "payment_state": "paid"},
            ],
        )
        self.assertEqual(
            invoices.invoice_line_ids.product_id, self.env.ref("prepaid_energy.product_rent")
        )
        self.assertEqual(lines.invoice_id, invoices)
        self.assertRecordValues(
            self._integrity_row(self.tenant),
            [
                {
                    "advances": 1000.0,
                    "invoiced": 745.16,
                    "uninvoiced_charges": 0.0,
                    "wallet_balance": 254.84,
                    "difference": 0.0,
                }
            ],
        )

    def test_property_fee_per_square_metre_invoiced_with_a_due_date(self):
        with freeze_time("2025-04-20 08:00:00"):
            account = self._open_for(self.occupancy, recharge=200.0)
        scheme = self._scheme(
            name="Property fee",
            fee_type="property",
            basis="per_area",
            amount=3.2,
            periodicity="monthly",
            collection="invoice",
            due_days=10,
        )
        subscription = self._subscribe(account, scheme, D(2025, 5, 1), date_end=D(2025, 6, 10))
        self.assertEqual(subscription.area, 120.5)
        with freeze_time("2025-06-15 08:00:00"):
            charges = subscription.with_user(self.officer)._post_due_charges()
        # 120.50 m² x 3.20 = 385.60 a month; the lease ends on 10 June:
        # 385.60 x 10 / 30 = 128.5333 -> 128.53
        self.assertEqual(
            [(c.date_from, c.date_to, c.amount, c.computation) for c in charges],
            [
                (D(2025, 5, 1), D(2025, 5, 31), 385.6, "120.50 m² x 3.2 = 385.60"),
                (D(2025, 6, 1), D(2025, 6, 10), 128.53, "120.50 m² x 3.2 = 385.60 x 10/30 days"),
            ],
        )
        self.assertFalse(subscription.next_charge_date, "everything up to the end is charged")
        invoices = charges.invoice_id.sorted("invoice_date")
        self.assertRecordValues(
            invoices,
            [
                {
                    "invoice_date": D(2025, 5, 1),
                    "invoice_date_due": D(2025, 5, 11),
                    "amount_total": 385.6,
                    "state": "posted",
                    "payment_state": "not_paid",
                    "prepaid_fee_account_id": account.id,
                    "prepaid_account_id": False,
                },
                {
                    "invoice_date": D(2025, 6, 1),
                    "invoice_date_due": D(2025, 6, 11),
                    "amount_total": 128.53,
                    "state": "posted",
                    "payment_state": "not_paid",
                    "prepaid_fee_account_id": account.id,
                    "prepaid_account_id": False,
                },
            ],
        )
        # the wallet does not pay invoiced fees, and its books still agree
        self.assertEqual(account.balance, 200.0)
        self.assertFalse(account.ledger_line_ids.filtered(lambda line: line.kind == "fee"))
        self.assertRecordValues(
            self._integrity_row(self.tenant), [{"wallet_balance": 200.0, "difference": 0.0}]
        )
        # ordinary receivables: open until paid, overdue after their due date
        receivable = invoices.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(receivable.mapped("reconciled"), [False, False])
        self.site.with_user(self.manager).write(
            {"trip_on_overdue_fees": True, "overdue_fee_grace_days": 5}
        )
        with freeze_time("2025-06-15 08:00:00"):
            account.invalidate_recordset()
            # May's is overdue (11 May + 5 days < 15 June); June's is not yet (11 + 5 = 16)
            self.assertTrue(account.has_overdue_fees)
            self.assertEqual(account.overdue_fee_amount, 385.6)
            self.assertTrue(account.fee_disconnection_due)
            Account = self.env["prepaid.account"]
            self.assertIn(account, Account.search([("has_overdue_fees", "=", True)]))
            self.assertIn(account, Account.search([("fee_disconnection_due", "=", True)]))
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoices[0].ids
        ).create({"journal_id": self.bank_journal.id})._create_payments()
        self.assertEqual(invoices[0].payment_state, "paid")
        self.assertEqual(charges.sorted("date_from").mapped("state"), ["paid", "invoiced"])
        with freeze_time("2025-06-15 08:00:00"):
            account.invalidate_recordset()
            self.assertFalse(account.has_overdue_fees)
            self.assertNotIn(
                account, self.env["prepaid.account"].search([("has_overdue_fees", "=", True)])
            )
        with freeze_time("2025-06-17 08:00:00"):
            account.invalidate_recordset()
            self.assertTrue(account.has_overdue_fees)  # June's, after its grace days

    def test_meter_rental_per_unit_quarterly(self):
        with freeze_time("2025-02-01 08:00:00"):
            account = self._open_for(self.occupancy, recharge=100.0)
        scheme = self._scheme(
            name="Meter rental",
            fee_type="meter_rental",
            basis="per_unit",
            amount=15.0,
            periodicity="quarterly",
        )
        subscription = self._subscribe(account, scheme, D(2025, 2, 15))
        self.assertEqual(subscription.quantity, 1.0)  # the account's one meter
        subscription.quantity = 2
        with freeze_time("2025-04-01 08:00:00"):
            charges = subscription._post_due_charges()
        # 2 x 15.00 = 30.00 a quarter; 15 Feb - 31 Mar is 45 of 90 days: 15.00
        self.assertEqual(charges.mapped("amount"), [15.0, 30.0])
        self.assertEqual(charges.mapped("period_start"), [D(2025, 1, 1), D(2025, 4, 1)])
        self.assertAlmostEqual(account.balance, 55.0)

    def test_the_cron_posts_what_is_due_and_isolates_a_failing_account(self):
        with freeze_time("2025-03-01 08:00:00"):
            account = self._open_for(self.occupancy, recharge=500.0)
            account2 = self._open_for(self.occupancy2, recharge=500.0)
        rent = self._rent()
        service = self._scheme(
            name="Cleaning", fee_type="service", basis="fixed", amount=40.0, collection="invoice"
        )
        ok = self._subscribe(account, rent, D(2025, 3, 1))
        broken = self._subscribe(account2, service, D(2025, 3, 1))
        tax_on_top = self.env["account.tax"].create(
            {
                "name": "VAT 6% on top",
                "amount": 6.0,
                "type_tax_use": "sale",
                "company_id": self.company.id,
            }
        )
        self._set_product_taxes(service.product_id, tax_on_top)
        Subscription = self.env["prepaid.fee.subscription"]
        with freeze_time("2025-03-02 08:00:00"):
            self.assertEqual(Subscription._subscriptions_due(), ok | broken)
            posted = Subscription._cron_post_due_fees()
            self.assertEqual(posted.subscription_id, ok)
            self.assertIn("Included in price", broken.post_error)
            self.assertFalse(broken.charge_ids)
            self.assertFalse(account2.fee_invoice_count)
            # skipped until fixed; nothing left due, so the cron does not run again
            self.assertFalse(Subscription._subscriptions_due())
            self.assertFalse(Subscription._cron_post_due_fees())
        self.assertEqual(ok.charge_ids.amount, 300.0)
        # fixed (tax included) and posted by hand from the preview
        self._set_product_taxes(service.product_id, self.tax_included)
        with freeze_time("2025-03-02 08:00:00"):
            action = broken.with_user(self.officer).action_preview()
            self.env["prepaid.fee.preview.wizard"].browse(action["res_id"]).action_post_due()
        self.assertFalse(broken.post_error)
        self.assertEqual(broken.charge_ids.invoice_id.amount_total, 40.0)
        self.assertEqual(account2.fee_invoice_count, 1)

    def test_the_cron_job_runs_through_the_scheduler(self):
        with freeze_time("2025-03-01 08:00:00"):
            account = self._open_for(self.occupancy, recharge=500.0)
            self._subscribe(account, self._rent(), D(2025, 3, 1))
            self.env.ref("prepaid_energy.ir_cron_prepaid_post_fees").method_direct_trigger()
        self.assertEqual(account.fee_charge_ids.amount, 300.0)
        self.assertAlmostEqual(account.balance, 200.0)

    def test_bad_input_is_refused_and_nothing_is_half_written(self):
        with freeze_time("2025-03-01 08:00:00"):
            account = self._open_for(self.occupancy, recharge=100.0)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self._rent(amount=-1.0)
        other_site = self._create_site(self.company, "Elsewhere")
        local = self._rent(site_id=other_site)
        with self.assertRaisesRegex(ValidationError, "offered on site Elsewhere only"):
            self._subscribe(account, local, D(2025, 3, 1))
        subscription = self._subscribe(account, self._rent(), D(2025, 3, 1))
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            subscription.date_end = D(2025, 2, 1)
            subscription.flush_recordset()
        # an officer cannot change a scheme (a manager's setting)
        with self.assertRaises(AccessError), self.cr.savepoint():
            local.with_user(self.officer).amount = 1.0
        account.sudo().state = "closed"
        counts = self._money_counts()
        with freeze_time("2025-03-05 08:00:00"), self.assertRaisesRegex(UserError, "is not open"):
            subscription._post_due_charges()
        self.assertEqual(self._money_counts(), counts)
        self.assertFalse(subscription.charge_ids)
        with freeze_time("2025-02-01 08:00:00"):
            action = subscription.action_preview()
            wizard = self.env["prepaid.fee.preview.wizard"].browse(action["res_id"])
            with self.assertRaisesRegex(UserError, "Nothing is due today"):
                wizard.action_post_due()

    def test_a_charged_fee_keeps_its_history(self):
        with freeze_time("2025-03-01 08:00:00"):
            account = self._open_for(self.occupancy, recharge=500.0)
            subscription = self._subscribe(account, self._rent(), D(2025, 3, 1))
            charge = subscription._post_due_charges()
        with self.assertRaisesRegex(UserError, "stays as it was charged"):
            charge.amount = 1.0
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            charge.sudo().unlink()  # nobody has the right; not even the system may
        with self.assertRaisesRegex(UserError, "charged already"):
            subscription.scheme_id = self._rent(name="Other rent")
        with self.assertRaisesRegex(UserError, "cannot start later"):
            subscription.date_start = D(2025, 4, 15)
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            subscription.unlink()
        self.assertEqual(fields.first(account.fee_subscription_ids), subscription)
        Form(subscription.with_user(self.officer)).save()  # the form still opens and saves
        # ending it stops the charges
        subscription.date_end = D(2025, 3, 31)
        self.assertFalse(subscription.next_charge_date)

    def test_a_scheme_created_without_a_form_takes_its_types_product(self):
        # imports and code create schemes without the form's onchange
        Scheme = self.env["prepaid.fee.scheme"].with_user(self.manager)
        schemes = Scheme.create(
            [
                {"name": "Rent", "fee_type": "rent", "amount": 10.0},
                {"name": "Meters", "fee_type": "meter_rental", "amount": 2.0},
                {"name": "Parking", "fee_type": "custom", "amount": 5.0},
            ]
        )
        self.assertEqual(
            schemes.mapped("product_id.default_code"), ["PE-RENT", "PE-METER", "PE-FEE"]
        )

    def test_an_agreed_rate_stays_and_the_schemes_new_amount_applies_to_the_others(self):
        with freeze_time("2025-01-01 08:00:00"):
            account = self._open_for(self.occupancy, recharge=1000.0)
            account2 = self._open_for(self.occupancy2, recharge=1000.0)
        rent = self._rent()
        following = self._subscribe(account, rent, D(2025, 1, 1))
        agreed = self._subscribe(account2, rent, D(2025, 1, 1), own_rate=250.0)
        self.assertEqual((following.rate, agreed.rate), (300.0, 250.0))
        with freeze_time("2025-01-01 08:00:00"):
            (following | agreed)._post_due_charges()
        rent.with_user(self.manager).amount = 320.0
        with freeze_time("2025-02-01 08:00:00"):
            (following | agreed)._post_due_charges()
        self.assertEqual(following.charge_ids.sorted("date_from").mapped("amount"), [300.0, 320.0])
        self.assertEqual(agreed.charge_ids.sorted("date_from").mapped("amount"), [250.0, 250.0])
        change = self.env["prepaid.audit.log"].search(
            [
                ("action", "=", "fee_change"),
                ("res_id", "=", rent.id),
                ("description", "=", "Changed"),
            ]
        )
        self.assertEqual(change.changes, "Amount or rate: 300.0 -> 320.0")
        self.assertEqual(change.user_id, self.manager)
