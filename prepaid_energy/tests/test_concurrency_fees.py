"""Two fee postings of one subscription at the same time charge its period once.

Real concurrent transactions (the harness of test_concurrency_wallet: committed
data, a barrier, Odoo's retries), two "cron workers" posting the same due fee:
the first locks the subscription and charges; the second waits, fails to
serialize, is retried with a fresh snapshot and finds nothing left to charge.
"""

import datetime

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL

from .test_concurrency_wallet import TestConcurrencyWallet


@tagged("post_install", "-at_install")
class TestConcurrencyFees(BaseCase):
    # the wallet test's harness, borrowed rather than inherited (its test would run again)
    _run_concurrently = TestConcurrencyWallet._run_concurrently
    _retrying = TestConcurrencyWallet._retrying

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": "Concurrent Fee Tenant"})
            account = env["prepaid.account"].create({"partner_id": partner.id})
            account.state = "open"
            # a balance the fee does not exhaust: no low-balance mail is sent from a worker
            account._post_ledger_lines(
                [{"account_id": account.id, "kind": "opening", "amount": 500.0}]
            )
            scheme = env["prepaid.fee.scheme"].create(
                {"name": "Concurrent rent", "fee_type": "rent", "amount": 120.0, "prorate": False}
            )
            subscription = env["prepaid.fee.subscription"].create(
                {
                    "scheme_id": scheme.id,
                    "account_id": account.id,
                    "date_start": account._local_today().replace(day=1),
                }
            )
            self.partner_id, self.account_id = partner.id, account.id
            self.scheme_id, self.subscription_id = scheme.id, subscription.id
        self.addCleanup(self._remove_committed_data)

    def _post(self, env):
        env["prepaid.fee.subscription"].browse(self.subscription_id)._post_due_charges()

    def _remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            charges = env["prepaid.fee.charge"].search([("account_id", "=", self.account_id)])
            for model, ids in (
                ("prepaid.account", [self.account_id]),
                ("prepaid.fee.subscription", [self.subscription_id]),
                ("prepaid.fee.scheme", [self.scheme_id]),
                ("res.partner", [self.partner_id]),
            ):
                cr.execute(
                    SQL(
                        "DELETE FROM mail_message WHERE model = %s AND res_id = ANY(%s)", model, ids
                    )
                )
                cr.execute(
                    SQL(
                        "DELETE FROM mail_followers WHERE res_model = %s AND res_id = ANY(%s)",
                        model,
                        ids,
                    )
                )
            for statement in (
                SQL("DELETE FROM prepaid_audit_log WHERE account_id = %s", self.account_id),
                SQL(
                    "DELETE FROM prepaid_audit_log WHERE res_model = 'prepaid.fee.scheme'"
                    " AND res_id = %s",
                    self.scheme_id,
                ),
                SQL("DELETE FROM prepaid_fee_charge WHERE id = ANY(%s)", charges.ids),
                SQL("DELETE FROM prepaid_alarm_event WHERE account_id = %s", self.account_id),
                SQL("DELETE FROM prepaid_ledger_line WHERE account_id = %s", self.account_id),
                SQL("DELETE FROM prepaid_fee_subscription WHERE id = %s", self.subscription_id),
                SQL("DELETE FROM prepaid_fee_scheme WHERE id = %s", self.scheme_id),
                SQL("DELETE FROM prepaid_account WHERE id = %s", self.account_id),
                SQL("DELETE FROM res_partner WHERE id = %s", self.partner_id),
            ):
                cr.execute(statement)

    def test_two_workers_posting_the_same_fee_charge_it_once(self):
        attempts = self._run_concurrently([self._post, self._post])
        self.assertGreaterEqual(sum(attempts), 3, attempts)  # the second was retried
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["prepaid.account"].browse(self.account_id)
            subscription = env["prepaid.fee.subscription"].browse(self.subscription_id)
            today = account._local_today()
            # not prorated: this month's whole 120.00, once
            self.assertEqual(subscription.charge_ids.mapped("amount"), [120.0])
            self.assertEqual(
                account.ledger_line_ids.filtered(lambda line: line.kind == "fee").mapped("amount"),
                [-120.0],
            )
            # each charge once in the books of the audit too
            self.assertEqual(
                env["prepaid.audit.log"].search_count(
                    [("action", "=", "fee_posting"), ("account_id", "=", self.account_id)]
                ),
                1,
            )
            self.assertAlmostEqual(account.balance, 380.0)
            next_month = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            self.assertEqual(subscription.next_charge_date, next_month)
