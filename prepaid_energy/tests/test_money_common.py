"""Shared set-up of the money side's tests: a site, a tenant, a meter, channels, users.

Figures used throughout: the site warns at 50.00 (alarm 1) and 20.00 (alarm 2),
is in arrears at 0.00, caps balances at 1000.00 and lets a cashier refund or
reverse up to 100.00 alone. Electricity costs 0.50 a kWh (flat) and carries a
10 % tax included in the price, so invoices equal what the wallet paid.
"""

import datetime

from odoo import Command, fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import Form, new_test_user


class MoneyCase(AccountTestInvoicingCommon):
    @classmethod
    def get_default_groups(cls):
        # The test user sets up sites and tariffs: a prepaid manager too.
        return super().get_default_groups() | cls.env.ref("prepaid_energy.group_prepaid_manager")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.currency = cls.company.currency_id
        cls.receivable = cls.company_data["default_account_receivable"]
        cls.revenue = cls.company_data["default_account_revenue"]
        cls.tax_included = cls.env["account.tax"].create(
            {
                "name": "VAT 10% included",
                "amount": 10.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": cls.company.id,
            }
        )
        cls.product_electricity = cls.env.ref("prepaid_energy.product_electricity")
        cls.product_water = cls.env.ref("prepaid_energy.product_water")
        cls.product_fee = cls.env.ref("prepaid_energy.product_fee")
        (cls.product_electricity | cls.product_water | cls.product_fee).write(
            {
                "taxes_id": [Command.set(cls.tax_included.ids)],
                "property_account_income_id": cls.revenue.id,
            }
        )
        cls.tariff = cls.env["prepaid.tariff"].create(
            {
                "name": "Flat 0.50",
                "code": "FLAT-050",
                "version_ids": [
                    Command.create({"date_from": "2020-01-01", "kind": "flat", "price": 0.5})
                ],
            }
        )
        cls.site = cls._create_site(cls.company, "Harbour Park")
        cls.unit = cls.env["prepaid.location"].create(
            {"name": "101", "location_type": "unit", "parent_id": cls.site.id}
        )
        cls.tenant = cls.env["res.partner"].create(
            {"name": "Lotus Trading Ltd", "property_account_receivable_id": cls.receivable.id}
        )
        cls.occupancy = cls.env["prepaid.occupancy"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.unit.id, "date_from": "2020-01-01"}
        )
        cls.occupancy.action_activate()
        cls.meter = cls._create_meter("EL-0001", cls.unit)

        # Cash desk: the payment hits the cash account directly (no statement to
        # match), as the install hook sets up for every cash journal.
        cls.cash_journal = cls.company_data["default_journal_cash"]
        cls.cash_journal._prepaid_book_cash_directly()
        cls.cash_in = cls.cash_journal.inbound_payment_method_line_ids[:1]
        cls.cash_out = cls.cash_journal.outbound_payment_method_line_ids[:1]
        cls.cash_account = cls.cash_journal.default_account_id
        # Bank: outstanding receipts/payments accounts set up by AccountTestInvoicingCommon.
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.bank_in = cls.inbound_payment_method_line

        cls.cashier = new_test_user(
            cls.env,
            login="pe_cashier",
            groups="prepaid_energy.group_prepaid_cashier",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.officer = new_test_user(
            cls.env,
            login="pe_officer",
            groups="prepaid_energy.group_prepaid_officer",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            login="pe_manager",
            groups="prepaid_energy.group_prepaid_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _create_site(cls, company, name, **values):
        return (
            cls.env["prepaid.location"]
            .with_company(company)
            .create(
                {
                    "name": name,
                    "location_type": "site",
                    "company_id": company.id,
                    "tz": "UTC",
                    "alarm1_amount": 50.0,
                    "alarm2_amount": 20.0,
                    "arrears_amount": 0.0,
                    "max_balance": 1000.0,
                    "refund_approval_amount": 100.0,
                    "default_tariff_id": cls.tariff.id,
                    **values,
                }
            )
        )

    @classmethod
    def _create_meter(cls, serial, unit, **values):
        return cls.env["prepaid.meter"].create(
            {"serial": serial, "unit_id": unit.id, "company_id": unit.company_id.id, **values}
        )

    # ------------------------------------------------------------------ helpers

    def _open_account(self, meters=None, start=1000.0, user=None, **wizard_values):
        """Open an account for the tenant through the wizard, as an officer would."""
        meters = self.meter if meters is None else meters
        env = self.env(user=user or self.officer)
        with Form(env["prepaid.account.open.wizard"]) as wizard:
            wizard.occupancy_id = self.occupancy.with_env(env)
            # the occupancy proposes its unit's free meters; take exactly ``meters``
            while len(wizard.line_ids):
                wizard.line_ids.remove(index=0)
            for meter in meters:
                with wizard.line_ids.new() as line:
                    line.meter_id = meter.with_env(env)
                    line.reading_total = start
            for name, value in wizard_values.items():
                setattr(wizard, name, value)
        action = wizard.record.action_confirm()
        return self.env["prepaid.account"].browse(action["res_id"])

    def _recharge(self, account, amount, operation="recharge", user=None, **values):
        """Book through the cashier's wizard; returns the prepaid.recharge."""
        env = self.env(user=user or self.cashier)
        defaults = {"journal_id": self.cash_journal.id} if operation != "reversal" else {}
        wizard = env["prepaid.recharge.wizard"].create(
            {
                "account_id": account.id,
                "operation": operation,
                "amount": amount,
                **defaults,
                **values,
            }
        )
        wizard.action_confirm()
        return self.env["prepaid.recharge"].search(
            [("account_id", "=", account.id)], limit=1, order="id desc"
        )

    def _consume(self, account, amount, meter=None, kind="consumption", date=None):
        """Deduct ``amount`` from the wallet the way the pricing cron does."""
        return account._post_ledger_lines(
            [
                {
                    "account_id": account.id,
                    "kind": kind,
                    "amount": -amount,
                    "meter_id": (meter or self.meter).id if kind == "consumption" else False,
                    "date": date or fields.Datetime.now(),
                    "description": f"{kind} {amount}",
                }
            ]
        )

    def _money_counts(self):
        """How many money records exist: a refused operation must not change any."""
        return {
            model: self.env[model].sudo().search_count([])
            for model in (
                "account.payment",
                "account.move",
                "prepaid.ledger.line",
                "prepaid.recharge",
            )
        }

    def _alarm_messages(self, account):
        return account.message_ids.filtered(
            lambda message: (
                message.message_type == "comment"
                and message.subtype_id == self.env.ref("mail.mt_comment")
            )
        )

    def _integrity_row(self, partner):
        # report rows are numbered per query: never trust a cached row
        self.env["prepaid.integrity.report"].invalidate_model()
        return self.env["prepaid.integrity.report"].search(
            [
                ("partner_id", "=", partner.commercial_partner_id.id),
                ("company_id", "=", self.company.id),
            ]
        )

    @staticmethod
    def _tomorrow():
        return fields.Date.today() + datetime.timedelta(days=1)
