"""What a new cashier, officer and manager meet first.

Receipt numbers without gaps, a cash desk whose chart of accounts came after
this module, error messages that name menus Odoo Community really shows,
finding occupancies and accounts by what people type, approvals that reach
the managers, the app's entry screen and the receipt as a real PDF.
"""

import io
import re

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools.pdf import PdfFileReader

from .test_money_common import MoneyCase

APPROVAL_ACTIVITY = "prepaid_energy.mail_activity_type_prepaid_approval"


def receipt_number(recharge):
    """The running number of a receipt name (PR/2026/00042 -> 42)."""
    return int(recharge.name.rsplit("/", 1)[1])


@tagged("post_install", "-at_install")
class TestCashierFirstUse(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # mail set up as in production: the managers are told by e-mail, from the
        # company's address when the cashier has none
        cls.company.alias_domain_id = cls.env["mail.alias.domain"].create(
            {"name": "example.com", "default_from": "notifications"}
        )
        cls.tenant.phone = "+86 21 5555 0101"
        cls.account = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "occupancy_id": cls.occupancy.id}
        )
        cls.account.write({"state": "open"})
        cls.meter._open_on_account(cls.account, 1000.0)
        cls.cashier_without_email = new_test_user(
            cls.env,
            login="pe_cashier_no_mail",
            groups="prepaid_energy.group_prepaid_cashier",
            email=False,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.second_manager = new_test_user(
            cls.env,
            login="pe_manager_2",
            groups="prepaid_energy.group_prepaid_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    # ------------------------------------------------------------------ receipt numbers

    def test_a_refused_attempt_leaves_no_gap_in_the_receipt_numbers(self):
        first = self._recharge(self.account, 10.0)
        # refused by the checks: above the site's maximum balance (1000.00)
        with self.assertRaisesRegex(UserError, "above the maximum"):
            self._recharge(self.account, 5000.0)
        # refused while booking, after the number was drawn: the cash account was
        # retired, so the payment's entry cannot be posted. The savepoint of the
        # assertion rolls the whole attempt back, as a failed request would be.
        self.cash_account.deprecated = True
        with self.assertRaisesRegex(UserError, "deprecated"):
            self._recharge(self.account, 15.0)
        self.cash_account.deprecated = False
        second = self._recharge(self.account, 20.0)
        refund = self._recharge(self.account, 5.0, operation="refund")
        reversal = self._recharge(
            self.account, 5.0, operation="reversal", reversed_recharge_id=refund.id
        )
        self.assertEqual(
            [receipt_number(doc) for doc in (first, second, refund, reversal)],
            [receipt_number(first) + step for step in range(4)],
        )
        sequence = self.env["ir.sequence"].search(
            [("code", "=", "prepaid.recharge"), ("company_id", "=", self.company.id)]
        )
        self.assertEqual(sequence.implementation, "no_gap")

    def test_a_document_waiting_for_approval_has_no_number_yet(self):
        self._recharge(self.account, 500.0)
        refund = self._recharge(self.account, 150.0, operation="refund")
        self.assertEqual(refund.state, "to_approve")
        self.assertEqual(refund.name, "/")
        self.assertIn("Refund", refund.display_name)
        self.assertIn(self.account.name, refund.display_name)
        refund.with_user(self.manager).action_reject()
        # nothing booked, no number used: deleting it leaves no gap either
        refund.unlink()
        after = self._recharge(self.account, 10.0)
        first = self.account.recharge_ids.filtered(lambda r: r.amount == 500.0)
        self.assertEqual(receipt_number(after), receipt_number(first) + 1)

    def test_a_standard_series_of_an_earlier_version_is_switched_to_no_gap(self):
        # what earlier versions created on first use: a standard series, backed by a
        # PostgreSQL sequence that never rolls back
        old = self.env["ir.sequence"].create(
            {
                "name": "prepaid.recharge (old)",
                "code": "prepaid.recharge",
                "prefix": "PR/%(year)s/",
                "padding": 5,
                "company_id": self.company.id,
            }
        )
        for _i in range(6):
            old.next_by_id()
        recharge = self._recharge(self.account, 10.0)
        self.assertEqual(old.implementation, "no_gap")
        self.assertEqual(receipt_number(recharge), 7)
        self.assertEqual(receipt_number(self._recharge(self.account, 10.0)), 8)

    # ------------------------------------------------------------------ channels

    def test_a_cash_desk_of_a_chart_loaded_after_the_module_sells_cash(self):
        # A new company, its chart of accounts loaded now, after this module was
        # installed: what a new database does when the localization is chosen.
        company = self.env["res.company"].create({"name": "Late Chart Co"})
        self.env.user.company_ids += company
        self.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        desk = self.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", company.id)]
        )
        self.assertEqual(len(desk), 1)
        methods = desk.inbound_payment_method_line_ids | desk.outbound_payment_method_line_ids
        self.assertTrue(methods)
        self.assertEqual(methods.payment_account_id, desk.default_account_id)
        # and a cash recharge of that company books Dr cash / Cr the tenant
        tenant = self.env["res.partner"].create({"name": "Late Tenant", "company_id": company.id})
        account = self.env["prepaid.account"].create(
            {"partner_id": tenant.id, "company_id": company.id}
        )
        account.state = "open"
        cashier = new_test_user(
            self.env,
            login="pe_late_cashier",
            groups="prepaid_energy.group_prepaid_cashier",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        recharge = self._recharge(account, 40.0, user=cashier, journal_id=desk.id)
        self.assertEqual(recharge.state, "done")
        self.assertRecordValues(
            recharge.payment_id.move_id.line_ids.sorted("balance"),
            [
                {
                    "account_id": tenant.with_company(company).property_account_receivable_id.id,
                    "debit": 0.0,
                    "credit": 40.0,
                },
                {"account_id": desk.default_account_id.id, "debit": 40.0, "credit": 0.0},
            ],
        )

    def test_a_channel_error_names_a_menu_the_user_can_reach(self):
        wechat = self.env["account.journal"].create(
            {"name": "WeChat Pay", "code": "WCP", "type": "bank", "company_id": self.company.id}
        )
        journals_menu = self.env.ref("account.menu_action_account_journal_form")
        path = " > ".join(
            menu.name
            for menu in (
                self.env.ref("account.menu_finance"),
                self.env.ref("account.menu_finance_configuration"),
                self.env.ref("account.account_account_menu"),
                journals_menu,
            )
        )
        self.assertEqual(path, "Invoicing > Configuration > Accounting > Journals")
        # the cashier is told whom to ask, and where that person goes
        with self.assertRaises(UserError) as caught:
            self._recharge(self.account, 10.0, journal_id=wechat.id)
        message = str(caught.exception)
        self.assertIn("Ask an Invoicing administrator", message)
        self.assertIn(f"{path} > WeChat Pay, tab Incoming Payments", message)
        self.assertNotIn("Accounting > Configuration > Journals", message.replace(path, ""))
        # an Invoicing administrator of Odoo Community (no hidden accounting group)
        # is sent there directly, sees that menu and, on the journal, the column
        admin = new_test_user(
            self.env,
            login="pe_invoicing_admin",
            groups="account.group_account_manager,prepaid_energy.group_prepaid_cashier",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.assertFalse(admin.has_group("account.group_account_readonly"))
        with self.assertRaises(UserError) as caught:
            self._recharge(self.account, 10.0, user=admin, journal_id=wechat.id)
        self.assertIn(f"Set one in {path} > WeChat Pay", str(caught.exception))
        visible = self.env["ir.ui.menu"].with_user(admin)._visible_menu_ids()
        self.assertIn(journals_menu.id, visible)
        arch = (
            self.env["account.journal"]
            .with_user(admin)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertEqual(arch.count('name="payment_account_id"'), 2)
        # what the column lets them do is what makes the channel work
        with Form(wechat.with_user(admin)) as journal:
            with journal.inbound_payment_method_line_ids.edit(0) as line:
                line.payment_account_id = wechat.default_account_id
        recharge = self._recharge(self.account, 10.0, journal_id=wechat.id)
        self.assertEqual(recharge.state, "done")

    # ------------------------------------------------------------------ finding things

    def test_the_occupancy_is_found_by_tenant_unit_or_site(self):
        Occupancy = self.env["prepaid.occupancy"].with_user(self.officer)
        for typed in ("Lotus", "lotus trad", "101", "Harbour Park"):
            found = [row[0] for row in Occupancy.name_search(typed)]
            self.assertIn(self.occupancy.id, found, typed)
        self.assertFalse(Occupancy.name_search("Nobody Ltd"))

    def test_opening_an_account_always_gives_it_its_unit_and_site(self):
        unit = self.env["prepaid.location"].create(
            {"name": "102", "location_type": "unit", "parent_id": self.site.id}
        )
        tenant = self.env["res.partner"].create({"name": "Peony Tea House"})
        occupancy = self.env["prepaid.occupancy"].create(
            {"partner_id": tenant.id, "unit_id": unit.id, "date_from": "2020-01-01"}
        )
        occupancy.action_activate()
        meter = self._create_meter("EL-0102", unit)
        # the tenant alone: the wizard takes their only occupancy, and its meters
        env = self.env(user=self.officer)
        with Form(env["prepaid.account.open.wizard"]) as wizard:
            wizard.partner_id = tenant.with_env(env)
            self.assertEqual(wizard.occupancy_id, occupancy.with_env(env))
            self.assertEqual(len(wizard.line_ids), 1)
        account = env["prepaid.account"].browse(wizard.record.action_confirm()["res_id"])
        self.assertRecordValues(
            account, [{"unit_id": unit.id, "site_id": self.site.id, "state": "open"}]
        )
        self.assertEqual(account.meter_ids, meter)
        # the site's thresholds apply: 0.00 is at the arrears threshold
        self.assertTrue(account.in_arrears)
        # or straight from an occupancy: tenant, unit and meters are filled in
        tenant2 = self.env["res.partner"].create({"name": "Jasmine Florist"})
        unit2 = self.env["prepaid.location"].create(
            {"name": "103", "location_type": "unit", "parent_id": self.site.id}
        )
        occupancy2 = self.env["prepaid.occupancy"].create(
            {"partner_id": tenant2.id, "unit_id": unit2.id, "date_from": "2020-01-01"}
        )
        occupancy2.action_activate()
        meter2 = self._create_meter("EL-0103", unit2)
        action = occupancy2.with_env(env).action_open_account()
        wizard = Form(env[action["res_model"]].with_context(**action["context"]))
        self.assertEqual(wizard.partner_id, tenant2.with_env(env))
        self.assertEqual(len(wizard.line_ids), 1)
        account2 = env["prepaid.account"].browse(wizard.save().action_confirm()["res_id"])
        self.assertRecordValues(account2, [{"unit_id": unit2.id, "site_id": self.site.id}])
        self.assertEqual(account2.meter_ids, meter2)
        # a tenant without any occupancy cannot get a wallet without a unit
        stranger = self.env["res.partner"].create({"name": "Walk-in Customer"})
        before = self._money_counts()
        accounts_before = self.env["prepaid.account"].search_count([])
        wizard = env["prepaid.account.open.wizard"].create({"partner_id": stranger.id})
        with self.assertRaisesRegex(
            UserError, r"occupies no unit yet.*Prepaid Energy > Properties > Occupancies"
        ):
            wizard.action_confirm()
        with self.assertRaisesRegex(UserError, "Choose the occupancy"):
            env["prepaid.account.open.wizard"].create({}).action_confirm()
        self.assertEqual(self.env["prepaid.account"].search_count([]), accounts_before)
        self.assertEqual(self._money_counts(), before)

    def test_the_cashier_finds_an_account_by_what_the_tenant_says(self):
        Account = self.env["prepaid.account"].with_user(self.cashier)
        other_tenant = self.env["res.partner"].create({"name": "Orchid Bakery"})
        other = self.env["prepaid.account"].create({"partner_id": other_tenant.id})
        other.state = "open"
        for typed in (self.account.name, "Lotus", "101", "EL-0001", "5555 0101"):
            found = [row[0] for row in Account.name_search(typed)]
            self.assertIn(self.account.id, found, typed)
            self.assertNotIn(other.id, found, typed)
        # what the cashier sees once the account is picked
        wizard = Form(self.env(user=self.cashier)["prepaid.recharge.wizard"])
        wizard.account_id = Account.browse(Account.name_search("EL-0001")[0][0])
        self.assertEqual(wizard.unit_id, self.unit.with_user(self.cashier))
        self.assertEqual(wizard.partner_id, self.tenant.with_user(self.cashier))

    def test_the_reversal_picker_shows_amount_date_and_tenant(self):
        recharge = self._recharge(self.account, 42.5)
        Recharge = self.env["prepaid.recharge"].with_user(self.cashier)
        self.assertEqual(Recharge.browse(recharge.id).display_name, recharge.name)
        detailed = Recharge.with_context(prepaid_recharge_details=True).name_search(recharge.name)
        self.assertEqual(len(detailed), 1)
        label = detailed[0][1]
        self.assertIn(recharge.name, label)
        self.assertIn("Recharge", label)
        self.assertIn("42.50", label)
        self.assertIn("Lotus Trading Ltd", label)
        self.assertRegex(label, r"\d{1,2}/\d{1,2}/\d{2,4}")
        # the wizard's field asks for those details
        arch = self.env["prepaid.recharge.wizard"].get_views([(False, "form")])["views"]["form"][
            "arch"
        ]
        self.assertRegex(arch, r'name="reversed_recharge_id"[^>]*prepaid_recharge_details')

    # ------------------------------------------------------------------ approvals

    def test_a_cashier_without_email_submits_and_the_managers_are_told(self):
        self._recharge(self.account, 500.0)
        refund = self._recharge(
            self.account,
            150.0,
            operation="refund",
            user=self.cashier_without_email,
            reason="Tenant moves out",
        )
        self.assertEqual(refund.state, "to_approve")
        activities = refund.activity_ids
        self.assertEqual(activities.activity_type_id, self.env.ref(APPROVAL_ACTIVITY))
        # every active manager of the company, the test's own admin user included
        managers = self.env.ref("prepaid_energy.group_prepaid_manager").users.filtered(
            lambda user: user.active and self.company in user.company_ids
        )
        self.assertIn(self.manager, managers)
        self.assertIn(self.second_manager, managers)
        self.assertEqual(activities.user_id, managers)
        self.assertIn("150.00", activities[0].summary)
        self.assertIn("Lotus Trading Ltd", activities[0].summary)
        # the manager finds it in their own to-do list
        mine = (
            self.env["mail.activity"]
            .with_user(self.second_manager)
            .search(
                [("user_id", "=", self.second_manager.id), ("res_model", "=", "prepaid.recharge")]
            )
        )
        self.assertEqual(mine.res_id, refund.id)
        refund.with_user(self.manager).action_approve()
        self.assertEqual(refund.state, "done")
        self.assertFalse(refund.activity_ids)
        done = self.env["mail.message"].search(
            [
                ("model", "=", "prepaid.recharge"),
                ("res_id", "=", refund.id),
                ("mail_activity_type_id", "=", self.env.ref(APPROVAL_ACTIVITY).id),
            ]
        )
        self.assertEqual(len(done), len(managers))

    def test_rejecting_closes_the_managers_activities(self):
        recharge = self._recharge(self.account, 300.0)
        reversal = self._recharge(
            self.account,
            300.0,
            operation="reversal",
            reversed_recharge_id=recharge.id,
            user=self.cashier_without_email,
        )
        self.assertTrue(reversal.activity_ids)
        reversal.with_user(self.second_manager).action_reject()
        self.assertEqual(reversal.state, "rejected")
        self.assertFalse(reversal.activity_ids)

    # ------------------------------------------------------------------ the app's entry

    def test_the_app_opens_on_the_accounts_with_recharge_one_click_away(self):
        root = self.env.ref("prepaid_energy.menu_prepaid_root")
        self.assertEqual(root.action, self.env.ref("prepaid_energy.action_prepaid_account"))
        action = self.env.ref("prepaid_energy.action_prepaid_account")
        self.assertEqual(action.view_mode.split(",")[0], "kanban")
        self.assertNotEqual(action.target, "new")
        views = (
            self.env["prepaid.account"]
            .with_user(self.cashier)
            .get_views([(False, "kanban"), (False, "list")])["views"]
        )
        for view_type in ("kanban", "list"):
            arch = views[view_type]["arch"]
            self.assertIn('name="action_recharge"', arch, view_type)
            self.assertIn('name="balance"', arch, view_type)
            self.assertIn('name="alarm_level"', arch, view_type)
        # the card's button opens the cashier's wizard on that account
        wizard_action = self.account.with_user(self.cashier).action_recharge()
        self.assertEqual(wizard_action["res_model"], "prepaid.recharge.wizard")
        self.assertEqual(wizard_action["context"]["default_account_id"], self.account.id)

    def test_the_cash_desk_is_proposed_and_its_method_books_the_money(self):
        env = self.env(user=self.cashier)
        action = self.account.with_env(env).action_recharge()
        wizard = Form(env["prepaid.recharge.wizard"].with_context(**action["context"]))
        self.assertEqual(wizard.journal_id, self.cash_journal.with_env(env))
        self.assertEqual(wizard.payment_method_line_id, self.cash_in.with_env(env))
        wizard.operation = "refund"
        self.assertEqual(wizard.payment_method_line_id, self.cash_out.with_env(env))

    def test_the_recharge_dialog_closes_when_the_receipt_downloads(self):
        env = self.env(user=self.cashier)
        wizard = env["prepaid.recharge.wizard"].create(
            {"account_id": self.account.id, "amount": 30.0, "journal_id": self.cash_journal.id}
        )
        action = wizard.action_confirm()
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertTrue(action["close_on_report_download"])


@tagged("post_install", "-at_install")
class TestReceiptPdf(MoneyCase, HttpCase):
    """The receipt as wkhtmltopdf prints it.

    An HttpCase: wkhtmltopdf loads the report's style sheets from this Odoo,
    which serves them inside the test's transaction only in HTTP test mode
    (from a TransactionCase the request would wait for the test to end).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "occupancy_id": cls.occupancy.id}
        )
        cls.account.write({"state": "open"})
        cls.meter._open_on_account(cls.account, 1000.0)

    def test_the_receipt_is_a_real_pdf_with_number_amount_balance_and_unit(self):
        self._recharge(self.account, 120.0)
        recharge = self._recharge(self.account, 88.0, external_reference="POS-7781")
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_user(self.cashier)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("prepaid_energy.action_report_prepaid_recharge_receipt", recharge.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"))
        reader = PdfFileReader(io.BytesIO(pdf))
        # three copies: tenant, cashier, accounts
        self.assertEqual(len(reader.pages), 3)
        text = " ".join(page.extract_text() for page in reader.pages)
        text = re.sub(r"\s+", " ", text)
        self.assertEqual(text.count(recharge.name), 3)
        self.assertIn("88.00", text)
        self.assertIn("208.00", text)  # balance after: 120 + 88
        self.assertIn("Harbour Park / 101", text)
        self.assertIn("EL-0001", text)
        # styled as printed (the style sheet puts the copy's name in capitals)
        self.assertIn("TENANT COPY", text)
        self.assertIn("ACCOUNTS COPY", text)
        # the issuer is on the receipt itself, whatever wkhtmltopdf does with headers
        self.assertIn(self.company.name, text)

    def test_several_receipts_print_at_once(self):
        first = self._recharge(self.account, 10.0)
        second = self._recharge(self.account, 20.0)
        pdf, _kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(
                "prepaid_energy.action_report_prepaid_recharge_receipt", (first | second).ids
            )
        )
        reader = PdfFileReader(io.BytesIO(pdf))
        self.assertEqual(len(reader.pages), 6)
        pages = [page.extract_text() for page in reader.pages]
        self.assertEqual([first.name in page for page in pages], [True] * 3 + [False] * 3)
        self.assertEqual([second.name in page for page in pages], [False] * 3 + [True] * 3)
