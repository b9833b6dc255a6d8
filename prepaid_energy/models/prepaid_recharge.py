from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_datetime
from odoo.tools.misc import formatLang

from prepaid_energy_core import errors as core_errors
from prepaid_energy_core import wallet
from prepaid_energy_core.vocabulary import RECHARGE, REFUND, REVERSAL

#: what a cashier's document does; the one list the model and the wizards use
OPERATIONS = [
    (RECHARGE, "Recharge"),
    (REFUND, "Refund"),
    (REVERSAL, "Reversal"),
]
#: operations that give money back and so may need a manager's approval
APPROVAL_OPERATIONS = (REFUND, REVERSAL)
MANAGER_GROUP = "prepaid_energy.group_prepaid_manager"
#: one gapless series per company for recharges, refunds and reversals
RECEIPT_SEQUENCE_CODE = "prepaid.recharge"
RECEIPT_PREFIX = "PR/%(year)s/"
APPROVAL_ACTIVITY_TYPE = "prepaid_energy.mail_activity_type_prepaid_approval"


class PrepaidRecharge(models.Model):
    _name = "prepaid.recharge"
    _description = "Prepaid recharge, refund or reversal"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    operation = fields.Selection(OPERATIONS, required=True, default=RECHARGE, tracking=True)
    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        required=True,
        index=True,
        check_company=True,
        tracking=True,
        domain="[('state', '=', 'open')]",
    )
    partner_id = fields.Many2one(
        related="account_id.partner_id", string="Tenant", store=True, index=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="account_id.currency_id")
    amount = fields.Monetary(required=True, tracking=True, help="Always positive.")
    wallet_amount = fields.Monetary(
        string="Wallet effect",
        compute="_compute_wallet_amount",
        store=True,
        help="What this document adds to (or takes from) the wallet.",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    journal_id = fields.Many2one(
        "account.journal",
        string="Channel",
        check_company=True,
        domain="[('type', 'in', ('cash', 'bank'))]",
        help="Cash desk, bank, or another channel set up as a cash or bank journal.",
    )
    payment_method_line_id = fields.Many2one(
        "account.payment.method.line",
        string="Payment method",
        check_company=True,
        domain="[('journal_id', '=', journal_id)]",
    )
    payment_id = fields.Many2one("account.payment", readonly=True, copy=False)
    payment_state = fields.Selection(related="payment_id.state", string="Payment status")
    # related fields read as superuser: cashiers see the number, not the payment
    payment_name = fields.Char(related="payment_id.name", string="Payment number")
    reversal_move_id = fields.Many2one(
        "account.move", string="Reversal entry", readonly=True, copy=False
    )
    ledger_line_ids = fields.One2many("prepaid.ledger.line", "recharge_id", string="Ledger")
    balance_after = fields.Monetary(compute="_compute_balance_after")
    reason = fields.Text(tracking=True)
    external_reference = fields.Char(
        string="Channel reference",
        copy=False,
        help="Reference of the channel (terminal receipt, transaction id). Unique per "
        "company, so a duplicated notification cannot credit twice.",
    )
    user_id = fields.Many2one(
        "res.users", string="Operator", default=lambda self: self.env.user, readonly=True
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("to_approve", "To approve"),
            ("done", "Done"),
            ("rejected", "Rejected"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    approval_date = fields.Datetime(readonly=True, copy=False)
    reversed_recharge_id = fields.Many2one(
        "prepaid.recharge",
        string="Reverses",
        index="btree_not_null",
        check_company=True,
        domain="[('account_id', '=', account_id), ('state', '=', 'done'), "
        "('operation', 'in', ('recharge', 'refund')), ('is_reversed', '=', False)]",
    )
    reversal_ids = fields.One2many("prepaid.recharge", "reversed_recharge_id", string="Reversals")
    is_reversed = fields.Boolean(compute="_compute_is_reversed", store=True)

    _sql_constraints = [
        ("amount_positive", "CHECK(amount > 0)", "The amount must be positive."),
        (
            "external_reference_unique",
            "UNIQUE(company_id, external_reference)",
            "This channel reference was already booked: a payment is credited once.",
        ),
    ]

    # ------------------------------------------------------------------ computes

    @api.depends("name", "operation", "state", "account_id", "amount", "date", "partner_id")
    @api.depends_context("prepaid_recharge_details")
    def _compute_display_name(self):
        """The receipt number, or what the document is while it has none.

        With ``prepaid_recharge_details`` in the context (the reversal picker),
        operation, amount, date and tenant follow, so the cashier picks the right one.
        """
        operations = dict(self._fields["operation"]._description_selection(self.env))
        states = dict(self._fields["state"]._description_selection(self.env))
        details = self.env.context.get("prepaid_recharge_details")
        for recharge in self:
            if recharge.name and recharge.name != "/":
                name = recharge.name
            else:
                name = self.env._(
                    "%(operation)s of %(account)s (%(state)s)",
                    operation=operations.get(recharge.operation, ""),
                    account=recharge.account_id.name or "",
                    state=states.get(recharge.state, ""),
                )
            if details and recharge.amount:
                name = " · ".join(
                    part
                    for part in (
                        name,
                        operations.get(recharge.operation, "")
                        if recharge.name and recharge.name != "/"
                        else "",
                        formatLang(self.env, recharge.amount, currency_obj=recharge.currency_id),
                        format_datetime(self.env, recharge.date, dt_format="short"),
                        recharge.partner_id.name or "",
                    )
                    if part
                )
            recharge.display_name = name

    @api.depends("operation", "amount", "reversed_recharge_id.operation")
    def _compute_wallet_amount(self):
        for recharge in self:
            operation = recharge.operation
            if operation == "reversal":
                # Reversing a recharge takes money out; reversing a refund puts it back.
                operation = (
                    "refund"
                    if recharge.reversed_recharge_id.operation == "recharge"
                    else "recharge"
                )
            sign = 1 if operation == "recharge" else -1
            recharge.wallet_amount = sign * recharge.amount

    @api.depends("reversal_ids.state")
    def _compute_is_reversed(self):
        for recharge in self:
            recharge.is_reversed = any(r.state == "done" for r in recharge.reversal_ids)

    @api.depends("ledger_line_ids.balance_after")
    def _compute_balance_after(self):
        for recharge in self:
            recharge.balance_after = recharge.ledger_line_ids[:1].balance_after

    @api.constrains("amount")
    def _check_amount(self):
        for recharge in self:
            if recharge.currency_id.compare_amounts(recharge.amount, 0) <= 0:
                raise ValidationError(self.env._("The amount must be positive."))

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # Said plainly here rather than by the database's CHECK constraint.
            if "amount" in vals and not (vals["amount"] or 0) > 0:
                raise ValidationError(self.env._("The amount must be positive."))
        # No number yet: it is drawn when the document is booked (see _execute).
        return super().create(vals_list)

    def write(self, vals):
        if any(recharge.state == "done" for recharge in self) and set(vals) & {
            "amount",
            "account_id",
            "operation",
            "journal_id",
            "payment_method_line_id",
            "reversed_recharge_id",
        }:
            raise UserError(self.env._("A done recharge, refund or reversal cannot change."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if any(recharge.state not in ("draft", "rejected") for recharge in self):
            raise UserError(
                self.env._("Only draft or rejected documents can be deleted; reverse the rest.")
            )

    # ------------------------------------------------------------------ checks

    def _needs_approval(self):
        self.ensure_one()
        if self.operation not in APPROVAL_OPERATIONS:
            return False
        limit = self.account_id.site_id.refund_approval_amount
        return self.currency_id.compare_amounts(self.amount, limit) > 0

    def _check_request(self):
        """Refuse a request that cannot be booked, with the reason; writes nothing."""
        for recharge in self:
            account = recharge.account_id
            if account.state != "open":
                raise UserError(
                    self.env._(
                        "Account %(account)s is not open: no %(operation)s is possible.",
                        account=account.display_name,
                        operation=recharge._operation_label(),
                    )
                )
            if recharge.currency_id.compare_amounts(recharge.amount, 0) <= 0:
                raise UserError(self.env._("The amount must be positive."))
            if recharge.operation == "reversal":
                recharge._check_reversal_target()
            else:
                recharge._check_channel()
            balance = account._to_decimal(account.balance)
            amount = account._to_decimal(recharge.amount)
            if recharge.operation == "recharge":
                try:
                    wallet.check_recharge(balance, amount, account._get_max_balance())
                except core_errors.ValidationError as error:
                    raise UserError(
                        self.env._(
                            "Recharge refused on %(account)s: %(reason)s",
                            account=account.display_name,
                            reason=error,
                        )
                    ) from None
            if recharge.operation == "refund" and amount > balance:
                raise UserError(
                    self.env._(
                        "Refund refused: %(amount)s is more than the balance %(balance)s of "
                        "%(account)s.",
                        amount=account._format_amount(amount),
                        balance=account._format_amount(balance),
                        account=account.display_name,
                    )
                )

    def _check_channel(self):
        self.ensure_one()
        method = self.payment_method_line_id
        if not self.journal_id or not method:
            raise UserError(self.env._("Choose the channel and its payment method."))
        expected = "inbound" if self.operation == "recharge" else "outbound"
        if method.journal_id != self.journal_id or method.payment_type != expected:
            raise UserError(
                self.env._(
                    "Payment method %(method)s is not an %(direction)s method of %(journal)s.",
                    method=method.name,
                    direction=expected,
                    journal=self.journal_id.display_name,
                )
            )
        if not method.payment_account_id:
            # Without an outstanding account Odoo books no journal entry, and the
            # tenant's advance would be missing from the books.
            raise UserError(
                self.env._(
                    "Payment method %(method)s of %(journal)s has no outstanding account, so "
                    "the payment would not be booked as the tenant's advance. %(how)s",
                    method=method.name,
                    journal=self.journal_id.display_name,
                    how=self.journal_id._prepaid_outstanding_account_hint(expected),
                )
            )

    def _check_reversal_target(self):
        self.ensure_one()
        target = self.reversed_recharge_id
        if not target:
            raise UserError(self.env._("Choose the recharge or refund to reverse."))
        if (
            target.account_id != self.account_id
            or target.state != "done"
            or target.operation not in ("recharge", "refund")
        ):
            raise UserError(
                self.env._(
                    "%(document)s cannot be reversed: only a done recharge or refund of the "
                    "same account can.",
                    document=target.display_name,
                )
            )
        pending = target.reversal_ids.filtered(
            lambda r: r != self and r.state in ("to_approve", "done")
        )
        if pending:
            raise UserError(
                self.env._(
                    "%(document)s is already reversed by %(reversal)s.",
                    document=target.display_name,
                    reversal=pending[0].display_name,
                )
            )
        if self.currency_id.compare_amounts(self.amount, target.amount):
            raise UserError(
                self.env._(
                    "A reversal takes back the whole amount of %(document)s.",
                    document=target.display_name,
                )
            )

    def _operation_label(self):
        return dict(OPERATIONS)[self.operation].lower()

    def _raise_locked_payment(self):
        if not self or self.env.context.get("prepaid_allow_reset"):
            return
        raise UserError(
            self.env._(
                "%(documents)s booked this payment: reverse it from the prepaid document "
                "so the wallet follows.",
                documents=", ".join(self.mapped("display_name")),
            )
        )

    # ------------------------------------------------------------------ actions

    def action_confirm(self):
        """Book the documents, or send them to a manager when above the site's limit."""
        self.check_access("write")
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for recharge in self:
            if recharge.state != "draft":
                raise UserError(self.env._("Only a draft can be confirmed."))
            recharge._check_request()
            if recharge._needs_approval() and not is_manager:
                recharge.state = "to_approve"
                # a note, not a mail: the cashier may have no e-mail address
                recharge._message_log(
                    body=self.env._(
                        "Above the site's approval limit: waiting for a manager's approval."
                    )
                )
                recharge._schedule_approval_activities()
                continue
            recharge._execute()
        return True

    def action_approve(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a prepaid manager can approve."))
        self.check_access("write")
        for recharge in self:
            if recharge.state != "to_approve":
                raise UserError(self.env._("Only a document waiting for approval can be approved."))
            recharge._check_request()
            recharge._execute()
        self._close_approval_activities(self.env._("Approved."))
        return True

    def action_reject(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a prepaid manager can reject."))
        self.check_access("write")
        for recharge in self:
            if recharge.state != "to_approve":
                raise UserError(self.env._("Only a document waiting for approval can be rejected."))
        self.write({"state": "rejected"})
        self._close_approval_activities(self.env._("Rejected."))
        return True

    # ------------------------------------------------------------------ approvals

    def _approvers_sudo(self):
        """Who may approve this document: the active prepaid managers of its company
        (read as superuser: a cashier may not read users' groups)."""
        self.ensure_one()
        return (
            self.env.ref(MANAGER_GROUP)
            .sudo()
            .users.filtered(
                lambda user: user.active and not user.share and self.company_id in user.company_ids
            )
        )

    def _schedule_approval_activities(self):
        """A to-do for each manager who may approve, on the document that waits."""
        for recharge in self:
            summary = self.env._(
                "Approve %(operation)s of %(amount)s for %(tenant)s",
                operation=recharge._operation_label(),
                amount=recharge.account_id._format_amount(recharge.amount),
                tenant=recharge.partner_id.display_name,
            )
            for user_sudo in recharge._approvers_sudo():
                # privileged: the cashier may neither read users nor send mail in
                # their name (the assigned manager is told by e-mail)
                recharge.sudo().activity_schedule(
                    APPROVAL_ACTIVITY_TYPE,
                    user_id=user_sudo.id,
                    summary=summary,
                    note=recharge.reason or "",
                )

    def _close_approval_activities(self, feedback):
        """Whoever decided, the request no longer waits for anyone."""
        self.sudo().activity_feedback([APPROVAL_ACTIVITY_TYPE], feedback=feedback)

    def action_print_receipt(self):
        return self.env.ref("prepaid_energy.action_report_prepaid_recharge_receipt").report_action(
            self
        )

    # ------------------------------------------------------------------ booking

    def _execute(self):
        """Book one document: payment or reversal entry, ledger line, reconciliation.

        Runs privileged (cashiers have no accounting rights) once the caller's
        access to the document was checked.
        """
        self.ensure_one()
        recharge = self.sudo()
        account = recharge.account_id
        account._lock_for_update()
        recharge._check_request()  # again, under the lock: the balance is now final
        if recharge.name == "/":
            # drawn in this transaction, once the document is valid: a booking that
            # fails from here on rolls the number back with it
            recharge.name = recharge._next_receipt_number()
        if recharge.operation == "reversal":
            ledger_vals = recharge._book_reversal()
        else:
            ledger_vals = recharge._book_payment()
        account._post_ledger_lines([ledger_vals])
        account._reconcile_advances()
        values = {"state": "done"}
        if self.state == "to_approve" or recharge._needs_approval():
            values.update(approved_by_id=self.env.user.id, approval_date=fields.Datetime.now())
        recharge.write(values)

    def _next_receipt_number(self):
        """The next number of the company's gapless receipt series.

        The series is an ``ir.sequence`` with ``no_gap`` implementation: its
        counter is a row updated in the booking transaction (PostgreSQL
        sequences, the standard implementation, never roll back). A series
        created as standard by an earlier version is switched on first use,
        carrying on from its next number.
        """
        self.ensure_one()
        company = self.company_id
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search(
            [("code", "=", RECEIPT_SEQUENCE_CODE), ("company_id", "=", company.id)],
            order="id",
            limit=1,
        )
        if not sequence:
            # First use in this company. Touching the company row makes a concurrent
            # first use wait, fail to serialize and retry: it then finds this series.
            self.env.cr.execute(
                SQL("UPDATE res_company SET write_date = write_date WHERE id = %s", company.id)
            )
            sequence = Sequence.create(
                {
                    "name": f"{RECEIPT_SEQUENCE_CODE} ({company.name})",
                    "code": RECEIPT_SEQUENCE_CODE,
                    "implementation": "no_gap",
                    "prefix": RECEIPT_PREFIX,
                    "padding": 5,
                    "company_id": company.id,
                }
            )
        elif sequence.implementation != "no_gap":
            sequence.write({"implementation": "no_gap", "number_next": sequence.number_next_actual})
        return sequence.next_by_id()

    def _book_payment(self):
        payment = self.env["account.payment"].create(self._prepare_payment_vals())
        payment.action_post()
        payment.move_id.prepaid_account_id = self.account_id
        self.payment_id = payment
        kind = self.operation
        return {
            "account_id": self.account_id.id,
            "kind": kind,
            "amount": self.amount if kind == "recharge" else -self.amount,
            "description": self.reason or self.name,
            "recharge_id": self.id,
            "payment_id": payment.id,
            "move_id": payment.move_id.id,
        }

    def _prepare_payment_vals(self):
        self.ensure_one()
        return {
            "payment_type": "inbound" if self.operation == "recharge" else "outbound",
            "partner_type": "customer",
            "partner_id": self.partner_id.commercial_partner_id.id,
            "amount": self.amount,
            "currency_id": self.currency_id.id,
            "journal_id": self.journal_id.id,
            "payment_method_line_id": self.payment_method_line_id.id,
            "company_id": self.company_id.id,
            "date": fields.Date.context_today(self),
            "memo": f"{self.name} {self.account_id.name}",
            "payment_reference": self.external_reference or self.name,
            "prepaid_recharge_id": self.id,
        }

    def _book_reversal(self):
        """Reverse the original payment's entry (never delete it) and mirror its ledger line."""
        target = self.reversed_recharge_id
        original_line = target.ledger_line_ids.filtered(
            lambda line: line.kind in ("recharge", "refund")
        )[:1]
        move = target.payment_id.move_id
        reversal_move = move._reverse_moves(
            [
                {
                    "date": fields.Date.context_today(self),
                    "ref": self.env._("Reversal of %(document)s", document=target.name),
                    "prepaid_account_id": self.account_id.id,
                }
            ],
            cancel=True,
        )
        # The entry stays posted next to its reversal; the payment is void.
        target.payment_id.with_context(prepaid_allow_reset=True).write({"state": "canceled"})
        self.reversal_move_id = reversal_move
        return {
            "account_id": self.account_id.id,
            "kind": "reversal",
            "amount": -original_line.amount,
            "description": self.reason
            or self.env._("Reversal of %(document)s", document=target.name),
            "recharge_id": self.id,
            "reversed_line_id": original_line.id,
            "move_id": reversal_move.id,
        }
