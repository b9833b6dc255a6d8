"""Twenty duplicate notifications of one paid top-up, at the same time: one credit.

Real concurrent transactions, as in prepaid_energy's test_concurrency_wallet:
each thread has its own cursor on committed data (removed at the end), reads
the transaction (its snapshot), waits at a barrier, then does what a
provider's webhook and the tenant's status page do: handle the "done"
notification, then post-process the transaction. Serialization failures are
retried the way Odoo's service layer retries a request. The lock on the
transaction row makes every later post-processing find the first one's
recharge; the UNIQUE constraint on the recharge's transaction would turn a
second credit into an error, which the test would report.
"""

import random
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.model import MAX_TRIES_ON_CONCURRENCY_FAILURE, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, mute_logger

NOTIFICATIONS = 20
WORKER_TIMEOUT = 180
AMOUNT = 75.0


@tagged("post_install", "-at_install")
class TestPortalTopupConcurrency(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        self.ids = {}
        self.addCleanup(self._remove_committed_data)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.ids["sequences_before"] = env["ir.sequence"].search([]).ids
            self.ids["triggers_before"] = env["ir.cron.trigger"].search([]).ids
            company = env.company
            journal = env["account.journal"].create(
                {
                    "name": "Concurrency online",
                    "code": "PEON",
                    "type": "bank",
                    "company_id": company.id,
                }
            )
            self.ids["journal"] = journal.id
            self.ids["journal_account"] = journal.default_account_id.id
            provider = env.ref("payment.payment_provider_demo").copy(
                {"name": "Concurrency demo", "company_id": company.id}
            )
            provider.write({"state": "test", "is_published": True, "journal_id": journal.id})
            provider._prepaid_payment_method_line().payment_account_id = journal.default_account_id
            self.ids["provider"] = provider.id
            partner = env["res.partner"].create({"name": "Concurrency Online Tenant"})
            self.ids["partner"] = partner.id
            account = env["prepaid.account"].create({"partner_id": partner.id})
            account.state = "open"
            self.ids["account"] = account.id
            tx = env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment_demo.payment_method_demo").id,
                    "reference": f"PE-CONCURRENCY-{account.id}",
                    "amount": AMOUNT,
                    "currency_id": company.currency_id.id,
                    "partner_id": partner.id,
                    "operation": "online_direct",
                    "prepaid_account_id": account.id,
                }
            )
            self.ids["tx"] = tx.id
            self.reference = tx.reference

    def _notify_and_post_process(self, env):
        """A provider's "paid" notification, then the post-processing (status page or cron)."""
        env["payment.transaction"]._handle_notification_data(
            "demo",
            {"reference": self.reference, "simulated_state": "done", "payment_details": "4242"},
        )
        env["payment.transaction"].browse(self.ids["tx"])._post_process()

    def _post_process(self, env):
        """The status page's poll or the post-processing cron, on a transaction done."""
        env["payment.transaction"].browse(self.ids["tx"])._post_process()

    def test_twenty_concurrent_notifications_credit_once(self):
        attempts = self._run_concurrently([self._notify_and_post_process] * NOTIFICATIONS)
        # they overlapped: only one could go first, the others were retried
        self.assertGreater(sum(attempts), NOTIFICATIONS, attempts)
        self._assert_credited_once()

    def test_twenty_concurrent_post_processings_credit_once(self):
        """The notification is in; browsers polling and the cron then race to book it.
        Nothing else writes the transaction first: only its row lock orders them."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["payment.transaction"]._handle_notification_data(
                "demo",
                {"reference": self.reference, "simulated_state": "done", "payment_details": "1"},
            )
        attempts = self._run_concurrently([self._post_process] * NOTIFICATIONS)
        self.assertGreater(sum(attempts), NOTIFICATIONS, attempts)
        self._assert_credited_once()

    def _assert_credited_once(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            tx = env["payment.transaction"].browse(self.ids["tx"])
            account = env["prepaid.account"].browse(self.ids["account"])
            recharges = env["prepaid.recharge"].search([("account_id", "=", account.id)])
            self.assertEqual(tx.state, "done")
            self.assertEqual(len(recharges), 1)
            self.assertEqual(
                (recharges.state, recharges.amount, recharges.payment_transaction_id),
                ("done", AMOUNT, tx),
            )
            self.assertEqual(len(account.ledger_line_ids), 1)
            self.assertAlmostEqual(account.balance, AMOUNT)
            payments = env["account.payment"].search([("payment_transaction_id", "=", tx.id)])
            self.assertEqual(payments, tx.payment_id)
            self.assertEqual(payments, recharges.payment_id)
            self.assertEqual(len(payments), 1)
            self.assertTrue(tx.is_post_processed)

    # ------------------------------------------------------------------ machinery

    def _run_concurrently(self, operations):
        barrier = threading.Barrier(len(operations))
        attempts = [0] * len(operations)
        errors = []

        def work(index, operation):
            try:
                self._retrying(operation, barrier, attempts, index)
            except Exception as error:
                errors.append(error)

        threads = [
            threading.Thread(target=work, args=(index, operation))
            for index, operation in enumerate(operations)
        ]
        with mute_logger("odoo.sql_db", "odoo.addons.payment.models.payment_transaction"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(WORKER_TIMEOUT)
        self.assertFalse(any(thread.is_alive() for thread in threads), "a worker hung")
        self.assertFalse(errors, errors)
        return attempts

    def _retrying(self, operation, barrier, attempts, index):
        """Odoo's ``odoo.service.model.retrying``, one fresh transaction per try (see
        prepaid_energy's test_concurrency_wallet for why it is rebuilt here)."""
        for tryno in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            attempts[index] += 1
            try:
                with self.registry.cursor() as cr:
                    cr.transaction = api.Transaction(self.registry)
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["payment.transaction"].browse(self.ids["tx"]).state  # noqa: B018 -- snapshot
                    if tryno == 1:
                        barrier.wait(timeout=WORKER_TIMEOUT)
                    operation(env)
                    env.flush_all()
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                if tryno == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    raise
            time.sleep(random.uniform(0.0, 2**tryno))

    def _remove_committed_data(self):
        """Delete what setUp and the workers committed, children first."""
        ids = self.ids
        if "account" not in ids:
            return
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"prepaid_allow_reset": True})
            recharges = env["prepaid.recharge"].search([("account_id", "=", ids["account"])])
            tx = env["payment.transaction"].browse(ids["tx"])
            payments = env["account.payment"].search([("journal_id", "=", ids["journal"])])
            moves = env["account.move"].search([("journal_id", "=", ids["journal"])])
            for model, res_ids in (
                ("prepaid.account", [ids["account"]]),
                ("prepaid.recharge", recharges.ids),
                ("payment.transaction", tx.ids),
                ("account.payment", payments.ids),
                ("res.partner", [ids["partner"]]),
            ):
                cr.execute(
                    SQL(
                        "DELETE FROM mail_message WHERE model = %s AND res_id = ANY(%s)",
                        model,
                        res_ids,
                    )
                )
                cr.execute(
                    SQL(
                        "DELETE FROM mail_followers WHERE res_model = %s AND res_id = ANY(%s)",
                        model,
                        res_ids,
                    )
                )
            cr.execute(SQL("DELETE FROM prepaid_ledger_line WHERE account_id = %s", ids["account"]))
            cr.execute(
                SQL("UPDATE payment_transaction SET payment_id = NULL WHERE id = %s", ids["tx"])
            )
            cr.execute(
                SQL(
                    "UPDATE prepaid_recharge SET payment_id = NULL WHERE account_id = %s",
                    ids["account"],
                )
            )
            env.invalidate_all()
            payments.unlink()
            moves = moves.exists()
            moves.filtered(lambda move: move.state != "draft").button_draft()
            moves.unlink()
            cr.execute(SQL("DELETE FROM prepaid_recharge WHERE account_id = %s", ids["account"]))
            cr.execute(SQL("DELETE FROM payment_transaction WHERE id = %s", ids["tx"]))
            cr.execute(SQL("DELETE FROM prepaid_account WHERE id = %s", ids["account"]))
            provider = env["payment.provider"].browse(ids["provider"])
            provider.state = "disabled"
            env["account.payment.method.line"].search(
                [("payment_provider_id", "=", provider.id)]
            ).unlink()
            provider.unlink()
            env["account.journal"].browse(ids["journal"]).unlink()
            env["account.account"].browse(ids["journal_account"]).exists().unlink()
            env["ir.sequence"].search([("id", "not in", ids["sequences_before"])]).unlink()
            env["ir.cron.trigger"].search([("id", "not in", ids["triggers_before"])]).unlink()
            env["res.partner"].browse(ids["partner"]).unlink()
