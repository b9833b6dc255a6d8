"""A cashier's shift at a till: opened with a float, closed with the money counted.

Every recharge, refund and reversal a cashier books while their shift is open
belongs to it. At closing the cashier counts each channel; the expected
amounts come from the core (prepaid_energy_core.shifts): float + recharges -
refunds +/- reversals. A difference needs a reason and is booked as a journal
entry in the channel's journal, against its cash difference account (Odoo's
"Loss Account" for a shortage, "Profit Account" for a surplus, set on the
journal). The Z report prints the shift.
"""

from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_repr

from prepaid_energy_core import shifts

from ..tools.core_errors import raise_as_odoo
from .account_journal import JOURNALS_MENU

SEQUENCE_CODE = "prepaid.cashier.shift"


class PrepaidCashierShift(models.Model):
    _name = "prepaid.cashier.shift"
    _description = "Cashier shift"
    _inherit = ["mail.thread"]
    _order = "date_open desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    user_id = fields.Many2one(
        "res.users",
        string="Cashier",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    site_id = fields.Many2one(
        "prepaid.location",
        check_company=True,
        domain="[('location_type', '=', 'site')]",
        help="Where the till is (for the report).",
    )
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        default="open",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    date_open = fields.Datetime(
        string="Opened", required=True, readonly=True, default=fields.Datetime.now
    )
    date_close = fields.Datetime(string="Closed", readonly=True)
    line_ids = fields.One2many("prepaid.cashier.shift.line", "shift_id", string="Channels")
    recharge_ids = fields.One2many("prepaid.recharge", "shift_id", string="Booked documents")
    recharge_count = fields.Integer(compute="_compute_recharge_count", string="Documents")
    expected_amount = fields.Monetary(compute="_compute_amounts", string="Expected")
    counted_amount = fields.Monetary(compute="_compute_amounts", string="Counted")
    difference_amount = fields.Monetary(compute="_compute_amounts", string="Difference")
    difference_reason = fields.Text(
        string="Reason for the difference", help="Required to close a shift whose count differs."
    )
    difference_move_ids = fields.Many2many(
        "account.move", string="Difference entries", readonly=True, copy=False
    )

    @api.depends("recharge_ids")
    def _compute_recharge_count(self):
        for shift in self:
            shift.recharge_count = len(shift.recharge_ids)

    @api.depends("line_ids.expected_amount", "line_ids.counted_amount")
    def _compute_amounts(self):
        for shift in self:
            shift.expected_amount = sum(shift.line_ids.mapped("expected_amount"))
            shift.counted_amount = sum(shift.line_ids.mapped("counted_amount"))
            shift.difference_amount = sum(shift.line_ids.mapped("difference_amount"))

    def init(self):
        # one open shift per cashier and company, whatever two sessions do at once
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS prepaid_cashier_shift_one_open"
                " ON prepaid_cashier_shift (user_id, company_id) WHERE state = 'open'"
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            user = self.env["res.users"].browse(vals.get("user_id") or self.env.uid)
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if self._open_shift(user, company):
                raise UserError(
                    self.env._(
                        "%(user)s already has an open shift in %(company)s: close it first.",
                        user=user.name,
                        company=company.name,
                    )
                )
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["prepaid.account"]._next_number(
                    company, SEQUENCE_CODE, "SH/"
                )
        shifts_ = super().create(vals_list)
        shifts_._add_default_channels()
        self.env["prepaid.audit.log"]._log(
            "shift_open",
            shifts_,
            self.env._("Shift opened"),
            amount=lambda shift: sum(shift.line_ids.mapped("opening_amount")),
        )
        return shifts_

    def _add_default_channels(self):
        """Every cash desk of the company, when the cashier gave no channel."""
        for shift in self.filtered(lambda shift: not shift.line_ids):
            journals = self.env["account.journal"].search(
                [("company_id", "=", shift.company_id.id), ("type", "=", "cash")], order="sequence"
            )
            shift.line_ids = [Command.create({"journal_id": journal.id}) for journal in journals]

    def write(self, vals):
        if self.filtered(lambda shift: shift.state == "closed") and set(vals) - {
            "message_main_attachment_id"
        }:
            raise UserError(self.env._("A closed shift cannot change."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never_used(self):
        if self.filtered(lambda shift: shift.recharge_ids or shift.state == "closed"):
            raise UserError(self.env._("A shift with documents or closed cannot be deleted."))

    @api.model
    def _open_shift(self, user=None, company=None):
        """The open shift of ``user`` (default: the current user) in ``company``."""
        user = user or self.env.user
        company = company or self.env.company
        return (
            self.sudo()
            .search(
                [
                    ("user_id", "=", user.id),
                    ("company_id", "=", company.id),
                    ("state", "=", "open"),
                ],
                limit=1,
            )
            .with_env(self.env)
        )

    # ------------------------------------------------------------------ totals

    def _movements(self):
        """``[(journal, operation, signed amount)]`` of the shift's booked documents; a
        reversal counts on the channel of the document it reverses."""
        self.ensure_one()
        movements = []
        for recharge in self.sudo().recharge_ids.filtered(lambda doc: doc.state == "done"):
            journal = recharge.journal_id or recharge.reversed_recharge_id.journal_id
            movements.append((journal, recharge.operation, recharge.wallet_amount))
        return movements

    def _channel_totals(self):
        """``{journal: core ChannelTotals}`` of this shift."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        openings = {line.journal_id: self._decimal(line.opening_amount) for line in self.line_ids}
        movements = [
            (journal, operation, Decimal(float_repr(amount, digits)))
            for journal, operation, amount in self._movements()
        ]
        with raise_as_odoo(self.env, where=lambda: self.env._("Shift %(shift)s", shift=self.name)):
            return shifts.totals(movements, openings)

    def _decimal(self, value):
        return Decimal(float_repr(value or 0.0, self.currency_id.decimal_places))

    def _sync_channel_lines(self):
        """A line for every channel the shift's documents used (a card terminal...)."""
        for shift in self.filtered(lambda shift: shift.state == "open"):
            journals = {journal for journal, _op, _amount in shift._movements() if journal}
            missing = [journal for journal in journals if journal not in shift.line_ids.journal_id]
            if missing:
                shift.line_ids = [Command.create({"journal_id": journal.id}) for journal in missing]

    # ------------------------------------------------------------------ closing

    def action_close(self):
        """Compare each channel's count with what it should hold; book any difference."""
        self.check_access("write")
        for shift in self:
            if shift.state != "open":
                raise UserError(self.env._("Shift %(shift)s is closed already.", shift=shift.name))
            if shift.user_id != self.env.user and not self.env.user.has_group(
                "prepaid_energy.group_prepaid_manager"
            ):
                raise UserError(self.env._("Only the cashier or a manager closes a shift."))
            shift._sync_channel_lines()
            totals = shift._channel_totals()
            counted = {
                line.journal_id: shift._decimal(line.counted_amount) for line in shift.line_ids
            }
            with raise_as_odoo(self.env, where=lambda shift=shift: shift.name):
                closing = shifts.close(totals, counted)
            differences = {
                journal: result.difference
                for journal, result in closing.items()
                if result.difference
            }
            if differences and not (shift.difference_reason or "").strip():
                raise ValidationError(
                    self.env._(
                        "The count of %(channels)s differs from what the system expects: give "
                        "the reason before closing.",
                        channels=", ".join(journal.name for journal in differences),
                    )
                )
            moves = shift.sudo()._book_differences(differences)
            for line in shift.line_ids:
                result = closing[line.journal_id]
                line.write({"closing_expected": float(result.expected)})
            shift.sudo().write(
                {
                    "state": "closed",
                    "date_close": fields.Datetime.now(),
                    "difference_move_ids": [Command.set(moves.ids)],
                }
            )
            self.env["prepaid.audit.log"]._log(
                "shift_close",
                shift,
                self.env._("Shift closed")
                + (f": {shift.difference_reason.strip()}" if differences else ""),
                amount=sum(float(value) for value in differences.values()),
            )
        return True

    def _book_differences(self, differences):
        """One posted entry per channel with a difference: cash account against the
        journal's cash difference account (loss for a shortage, profit for a surplus)."""
        moves = self.env["account.move"]
        for journal, difference in differences.items():
            account = journal.loss_account_id if difference < 0 else journal.profit_account_id
            if not account:
                path = self.env.ref(JOURNALS_MENU).sudo().complete_name.replace("/", " > ")
                raise UserError(
                    self.env._(
                        "Journal %(journal)s has no %(which)s account for cash differences: set "
                        "it in %(path)s > %(journal)s, tab Journal Entries.",
                        journal=journal.display_name,
                        which=self.env._("Loss Account")
                        if difference < 0
                        else self.env._("Profit Account"),
                        path=path,
                    )
                )
            liquidity = journal.default_account_id
            label = self.env._(
                "Shift %(shift)s: counted %(difference)s %(what)s. %(reason)s",
                shift=self.name,
                difference=float_repr(abs(difference), self.currency_id.decimal_places),
                what=self.env._("short") if difference < 0 else self.env._("over"),
                reason=self.difference_reason.strip(),
            )
            amount = float(difference)
            move = moves.create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": fields.Date.context_today(self),
                    "ref": label,
                    "line_ids": [
                        Command.create(
                            {"name": label, "account_id": liquidity.id, "balance": amount}
                        ),
                        Command.create(
                            {"name": label, "account_id": account.id, "balance": -amount}
                        ),
                    ],
                }
            )
            move.action_post()
            moves |= move
        return moves

    def action_print_z_report(self):
        return self.env.ref("prepaid_energy.action_report_prepaid_shift_z").report_action(
            self, config=False
        )

    def action_view_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy.action_prepaid_recharge"
        )
        action["domain"] = [("shift_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    @api.model
    def action_my_shift(self):
        """The current user's open shift, or a new one to open."""
        shift = self._open_shift()
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("My shift"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "current",
        }
        if shift:
            action["res_id"] = shift.id
        return action
