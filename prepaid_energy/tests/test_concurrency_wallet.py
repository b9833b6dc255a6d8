"""Two recharges and a billing run on one wallet at the same time lose no update.

Real concurrent transactions: each operation runs in its own thread on its own
database cursor, so the test data must be committed first (and is removed at
the end). Every transaction takes its snapshot, then all wait at a barrier and
go together: the first to lock the wallet wins, the others fail to serialize
and are retried the way Odoo's service layer retries a request
(``odoo.service.model.retrying``: see ``_retrying``).
"""

import functools
import random
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.model import MAX_TRIES_ON_CONCURRENCY_FAILURE, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, mute_logger

#: seconds a worker may take, retries included, before the test gives up on it
WORKER_TIMEOUT = 120


@tagged("post_install", "-at_install")
class TestConcurrencyWallet(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            sequences_before = env["ir.sequence"].search([("code", "like", "prepaid.%")])
            self.journal = env["account.journal"].create(
                {"name": "Concurrency test cash", "code": "PECT", "type": "cash"}
            )
            methods = (
                self.journal.inbound_payment_method_line_ids
                | self.journal.outbound_payment_method_line_ids
            )
            methods.payment_account_id = self.journal.default_account_id
            self.partner = env["res.partner"].create({"name": "Concurrency Tenant"})
            self.account = env["prepaid.account"].create({"partner_id": self.partner.id})
            self.account.state = "open"
            self.journal_id, self.account_id = self.journal.id, self.account.id
            self.partner_id = self.partner.id
            self.journal_account_id = self.journal.default_account_id.id
            # a first recharge creates the per-company numbering before the race
            self._recharge(env, 100.0)
            self.created_sequences = (
                env["ir.sequence"].search([("code", "like", "prepaid.%")]) - sequences_before
            ).ids
        self.addCleanup(self._remove_committed_data)

    def _recharge(self, env, amount):
        recharge = env["prepaid.recharge"].create(
            {
                "operation": "recharge",
                "account_id": self.account_id,
                "amount": amount,
                "journal_id": self.journal_id,
            }
        )
        recharge.payment_method_line_id = recharge.journal_id.inbound_payment_method_line_ids[:1]
        recharge.action_confirm()
        return recharge

    def _consume(self, env, amount):
        env["prepaid.account"]._post_ledger_lines(
            [
                {
                    "account_id": self.account_id,
                    "kind": "consumption",
                    "amount": -amount,
                    "description": "billing run",
                }
            ]
        )

    def _remove_committed_data(self):
        """Delete what setUp and the workers committed, children first."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"prepaid_allow_reset": True})
            payments = env["account.payment"].search([("journal_id", "=", self.journal_id)])
            moves = env["account.move"].search([("journal_id", "=", self.journal_id)])
            recharges = env["prepaid.recharge"].search([("account_id", "=", self.account_id)])
            env["mail.message"].search(
                [
                    "|",
                    "&",
                    ("model", "=", "prepaid.account"),
                    ("res_id", "=", self.account_id),
                    "&",
                    ("model", "=", "prepaid.recharge"),
                    ("res_id", "in", recharges.ids),
                ]
            ).unlink()
            env["mail.followers"].search(
                [
                    "|",
                    "&",
                    ("res_model", "=", "prepaid.account"),
                    ("res_id", "=", self.account_id),
                    "&",
                    ("res_model", "=", "prepaid.recharge"),
                    ("res_id", "in", recharges.ids),
                ]
            ).unlink()
            cr.execute(
                SQL("DELETE FROM prepaid_ledger_line WHERE account_id = %s", self.account_id)
            )
            payments.unlink()
            moves = moves.exists()
            moves.filtered(lambda move: move.state != "draft").button_draft()
            moves.unlink()
            for table in ("prepaid_recharge", "prepaid_account"):
                column = "account_id" if table == "prepaid_recharge" else "id"
                cr.execute(
                    SQL(
                        "DELETE FROM %s WHERE %s = %s",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        self.account_id,
                    )
                )
            env["account.journal"].browse(self.journal_id).unlink()
            env["account.account"].browse(self.journal_account_id).unlink()
            env["ir.sequence"].browse(self.created_sequences).unlink()
            # the partner's own log is an accounting audit trail the ORM keeps forever
            cr.execute(
                SQL(
                    "DELETE FROM mail_message WHERE model = 'res.partner' AND res_id = %s",
                    self.partner_id,
                )
            )
            env["res.partner"].browse(self.partner_id).unlink()

    def _run_concurrently(self, operations):
        """Run each ``operation(env)`` in its own thread and transaction, with retries.

        Each transaction reads the wallet (taking its snapshot) before the
        barrier, so all of them overlap. Returns how many attempts each took.
        """
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
        with mute_logger("odoo.sql_db"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(WORKER_TIMEOUT)
        self.assertFalse(any(thread.is_alive() for thread in threads), "a worker hung")
        self.assertFalse(errors, errors)
        return attempts

    def _retrying(self, operation, barrier, attempts, index):
        """Odoo's ``odoo.service.model.retrying``, one fresh transaction per try.

        The same errors are retried (serialization failure, deadlock, lock not
        available), as many times, with the same random back-off. ``retrying``
        itself cannot run here: between tries it looks the registry up, and the
        test runner holds the registry lock while tests run. A new cursor per
        try is what a retried request gets anyway.
        """
        for tryno in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            attempts[index] += 1
            try:
                # the cursor commits when the block ends without error, else rolls back
                with self.registry.cursor() as cr:
                    # give the cursor its transaction: Environment would look it up
                    # in the (locked) registry
                    cr.transaction = api.Transaction(self.registry)
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["prepaid.account"].browse(self.account_id).balance  # noqa: B018 -- snapshot
                    if tryno == 1:
                        barrier.wait(timeout=WORKER_TIMEOUT)
                    operation(env)
                    env.flush_all()
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                if tryno == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    raise
            time.sleep(random.uniform(0.0, 2**tryno))

    def test_two_recharges_and_a_billing_run_lose_no_update(self):
        attempts = self._run_concurrently(
            [
                functools.partial(self._recharge, amount=50.0),
                functools.partial(self._recharge, amount=30.0),
                functools.partial(self._consume, amount=45.25),
            ]
        )
        # all three overlapped: only one could go first, the others were retried
        self.assertGreaterEqual(sum(attempts), 5, attempts)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["prepaid.account"].browse(self.account_id)
            lines = account.ledger_line_ids.sorted("id")
            # 100 (before) + 50 + 30 - 45.25 = 134.75
            self.assertAlmostEqual(account.balance, 134.75)
            self.assertEqual(len(lines), 4)
            self.assertEqual(sorted(lines.mapped("amount")), [-45.25, 30.0, 50.0, 100.0])
            # each line saw every earlier one: its balance-after is the running sum
            running = 0.0
            for line in lines:
                running += line.amount
                self.assertAlmostEqual(line.balance_after, running)
            # and the books agree: one posted payment per recharge, 180.00 advanced
            payments = env["account.payment"].search([("journal_id", "=", self.journal_id)])
            self.assertEqual(len(payments), 3)
            self.assertAlmostEqual(sum(payments.mapped("amount")), 180.0)
            self.assertEqual(len(set(account.recharge_ids.mapped("name"))), 3)
