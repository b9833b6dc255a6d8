"""A tenancy's side of a prepaid account: fees, fee invoices, overdue state, alarm history.

``has_overdue_fees`` is what a disconnection policy reads: the hardware addon
trips the meters of accounts with ``fee_disconnection_due`` (overdue fee
invoices on a site whose policy says unpaid fees trip the meter).
"""

import datetime

from odoo import api, fields, models

OPEN_PAYMENT_STATES = ("not_paid", "partial")


class PrepaidAccount(models.Model):
    # a file of its own: the invoicing file is another team's, this one is the tenancy's
    _name = "prepaid.account"
    _inherit = ["prepaid.account", "prepaid.audit.mixin"]
    # credit settings are worth an audit line; accounts are created by the open wizard
    _audit_action = "setting_change"
    _audit_fields = ("credit_limit", "emergency_credit_amount")
    _audit_on_create = False

    alarm_event_ids = fields.One2many("prepaid.alarm.event", "account_id", string="Alarm history")
    fee_subscription_ids = fields.One2many("prepaid.fee.subscription", "account_id", string="Fees")
    fee_charge_ids = fields.One2many("prepaid.fee.charge", "account_id", string="Fee charges")
    fee_invoice_count = fields.Integer(compute="_compute_fee_invoice_count")
    has_overdue_fees = fields.Boolean(
        compute="_compute_overdue_fees",
        search="_search_has_overdue_fees",
        compute_sudo=True,  # invoice states, which cashiers may not read
        help="A fee invoice is unpaid after its due date (plus the site's grace days).",
    )
    overdue_fee_amount = fields.Monetary(
        string="Overdue fees", compute="_compute_overdue_fees", compute_sudo=True
    )
    fee_disconnection_due = fields.Boolean(
        string="Trip for overdue fees",
        compute="_compute_overdue_fees",
        search="_search_fee_disconnection_due",
        compute_sudo=True,
        help="Overdue fees on a site whose policy says unpaid fees trip the meter.",
    )

    def _open_fee_invoices(self):
        """Posted fee invoices of these accounts with something left to pay."""
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("prepaid_fee_account_id", "in", self.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", OPEN_PAYMENT_STATES),
                ]
            )
        )

    def _overdue_fee_invoices(self, invoices):
        """The invoices of ``invoices`` overdue for this account, on its site's clock."""
        self.ensure_one()
        grace = datetime.timedelta(days=self.site_id.overdue_fee_grace_days or 0)
        today = self._local_today()
        return invoices.filtered(
            lambda invoice: (
                invoice.prepaid_fee_account_id == self
                and invoice.invoice_date_due
                and invoice.invoice_date_due + grace < today
            )
        )

    def _compute_overdue_fees(self):
        invoices = self._open_fee_invoices()
        for account in self:
            overdue = account._origin._overdue_fee_invoices(invoices) if account._origin else []
            account.has_overdue_fees = bool(overdue)
            account.overdue_fee_amount = sum(invoice.amount_residual for invoice in overdue)
            account.fee_disconnection_due = bool(overdue) and account.site_id.trip_on_overdue_fees

    def _accounts_with_overdue_fees(self):
        invoices = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("prepaid_fee_account_id", "!=", False),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", OPEN_PAYMENT_STATES),
                    ("invoice_date_due", "<", fields.Date.today() + datetime.timedelta(days=1)),
                ]
            )
        )
        accounts = invoices.prepaid_fee_account_id
        return accounts.filtered(lambda account: account._overdue_fee_invoices(invoices))

    def _search_has_overdue_fees(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Search on overdue fees with = or != only."))
        ids = self._accounts_with_overdue_fees().ids
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]

    def _search_fee_disconnection_due(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Search on overdue fees with = or != only."))
        ids = (
            self._accounts_with_overdue_fees()
            .filtered(lambda account: account.site_id.trip_on_overdue_fees)
            .ids
        )
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]

    @api.depends("fee_charge_ids.invoice_id")
    def _compute_fee_invoice_count(self):
        counts = dict(
            self.env["account.move"]
            .sudo()
            ._read_group(
                [("prepaid_fee_account_id", "in", self.ids)],
                ["prepaid_fee_account_id"],
                ["__count"],
            )
        )
        for account in self:
            account.fee_invoice_count = counts.get(account._origin.sudo(), 0)

    def action_view_fee_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("prepaid_fee_account_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_view_fee_subscriptions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Fees"),
            "res_model": "prepaid.fee.subscription",
            "view_mode": "list,form",
            "domain": [("account_id", "=", self.id)],
            "context": {"default_account_id": self.id},
        }

    def action_preview_fees(self):
        return self.env["prepaid.fee.preview.wizard"]._action_open(
            {"default_account_ids": self.ids}
        )

    def _audit_account(self):
        return self

    def _on_alarm_level_changed(self, previous_level):
        # the history is written as the system: cashiers post, they do not write history
        self.env["prepaid.alarm.event"].sudo().create(
            {
                "account_id": self.id,
                "previous_level": previous_level or False,
                "level": self.alarm_level,
                "balance": self.balance,
            }
        )
        return super()._on_alarm_level_changed(previous_level)
