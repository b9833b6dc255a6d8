import datetime

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

#: how far ahead a preview looks by default
PREVIEW_DAYS = 31


class PrepaidFeePreviewWizard(models.TransientModel):
    """The next fee charges, computed as the cron would post them, before anything is posted."""

    _name = "prepaid.fee.preview.wizard"
    _description = "Preview the next fee charges"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    scheme_ids = fields.Many2many("prepaid.fee.scheme", string="Fee schemes")
    account_ids = fields.Many2many("prepaid.account", string="Prepaid accounts")
    subscription_ids = fields.Many2many("prepaid.fee.subscription", string="Subscriptions")
    site_id = fields.Many2one("prepaid.location", domain="[('location_type', '=', 'site')]")
    date_until = fields.Date(
        string="Charges due up to",
        required=True,
        default=lambda self: (
            fields.Date.context_today(self) + datetime.timedelta(days=PREVIEW_DAYS)
        ),
    )
    line_ids = fields.One2many("prepaid.fee.preview.line", "wizard_id", string="Next charges")
    total_amount = fields.Monetary(compute="_compute_totals")
    due_amount = fields.Monetary(string="Due today", compute="_compute_totals")
    due_count = fields.Integer(compute="_compute_totals")

    @api.depends("line_ids.amount", "line_ids.is_due")
    def _compute_totals(self):
        for wizard in self:
            due = wizard.line_ids.filtered("is_due")
            wizard.total_amount = sum(wizard.line_ids.mapped("amount"))
            wizard.due_amount = sum(due.mapped("amount"))
            wizard.due_count = len(due)

    @api.model
    def _action_open(self, context):
        wizard = self.with_context(**context).create({})
        wizard._compute_lines()
        return wizard._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Next fee charges"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _subscriptions(self):
        self.ensure_one()
        domain = [
            ("company_id", "=", self.company_id.id),
            ("next_charge_date", "!=", False),
            ("account_id.state", "=", "open"),
        ]
        if self.subscription_ids:
            domain.append(("id", "in", self.subscription_ids.ids))
        if self.scheme_ids:
            domain.append(("scheme_id", "in", self.scheme_ids.ids))
        if self.account_ids:
            domain.append(("account_id", "in", self.account_ids.ids))
        if self.site_id:
            domain.append(("site_id", "=", self.site_id.id))
        return self.env["prepaid.fee.subscription"].search(domain)

    def _compute_lines(self):
        for wizard in self:
            commands = [Command.clear()]
            for subscription, charge in wizard._subscriptions()._preview(wizard.date_until):
                commands.append(Command.create(wizard._prepare_line_vals(subscription, charge)))
            wizard.line_ids = commands

    def _prepare_line_vals(self, subscription, charge):
        return {
            "subscription_id": subscription.id,
            "date_from": charge.start,
            "date_to": charge.end,
            "due_date": charge.due,
            "days": charge.days,
            "period_days": charge.period_days,
            "amount": float(charge.amount),
            "computation": subscription._describe(charge),
            "is_due": charge.due <= subscription._local_today(),
        }

    def action_refresh(self):
        self._compute_lines()
        return self._reopen()

    def action_post_due(self):
        """Post what is due today (on each account's clock), as the cron would."""
        self.ensure_one()
        subscriptions = self.line_ids.filtered("is_due").subscription_id
        if not subscriptions:
            raise UserError(self.env._("Nothing is due today: nothing to post."))
        charges = subscriptions._post_due_charges()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Fee charges posted"),
            "res_model": "prepaid.fee.charge",
            "view_mode": "list,form",
            "domain": [("id", "in", charges.ids)],
            "context": {"create": False},
        }


class PrepaidFeePreviewLine(models.TransientModel):
    _name = "prepaid.fee.preview.line"
    _description = "A fee charge to come"
    _order = "due_date, id"

    wizard_id = fields.Many2one("prepaid.fee.preview.wizard", required=True, ondelete="cascade")
    subscription_id = fields.Many2one("prepaid.fee.subscription", required=True)
    scheme_id = fields.Many2one(related="subscription_id.scheme_id")
    account_id = fields.Many2one(related="subscription_id.account_id")
    partner_id = fields.Many2one(related="subscription_id.partner_id", string="Tenant")
    unit_id = fields.Many2one(related="subscription_id.unit_id")
    collection = fields.Selection(related="subscription_id.collection")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    due_date = fields.Date(string="Charged on")
    days = fields.Integer()
    period_days = fields.Integer()
    amount = fields.Monetary()
    computation = fields.Char()
    is_due = fields.Boolean(string="Due now")
