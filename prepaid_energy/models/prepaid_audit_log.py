"""Operator audit: who did what, when, to which record.

One append-only model that small hooks write to (recharges, refunds, reversals,
approvals, tariff and price changes, site settings, fees, shifts...) and that
other addons write to as well: the hardware addon logs its relay commands with::

    self.env["prepaid.audit.log"]._log(
        "relay_command", meter, self.env._("Trip sent"), account=meter.account_id
    )

Entries are written as the system (operators may not write the log) and are
never changed or deleted.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

AUDIT_ACTIONS = [
    ("recharge", "Recharge"),
    ("refund", "Refund"),
    ("reversal", "Reversal"),
    ("approval", "Approval"),
    ("rejection", "Rejection"),
    ("relay_command", "Relay command"),
    ("tariff_change", "Tariff change"),
    ("price_change", "Price change"),
    ("setting_change", "Setting change"),
    ("fee_change", "Fee scheme change"),
    ("fee_posting", "Fees posted"),
    ("apportionment", "Common-area apportionment"),
    ("shift_open", "Shift opened"),
    ("shift_close", "Shift closed"),
    ("other", "Other"),
]


class PrepaidAuditLog(models.Model):
    _name = "prepaid.audit.log"
    _description = "Prepaid operator audit entry"
    _order = "date desc, id desc"
    _rec_name = "description"

    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users",
        string="Operator",
        required=True,
        default=lambda self: self.env.user,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    action = fields.Selection(AUDIT_ACTIONS, required=True, readonly=True, index=True)
    res_model = fields.Char(string="Document model", readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Document id", model_field="res_model", readonly=True, index=True
    )
    record_name = fields.Char(string="Document", readonly=True)
    description = fields.Text(readonly=True)
    changes = fields.Text(readonly=True, help="Field: old value -> new value, one a line.")
    account_id = fields.Many2one(
        "prepaid.account", string="Prepaid account", readonly=True, index="btree_not_null"
    )
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(readonly=True, aggregator="sum")

    @api.model
    def _log(self, action, records=None, description="", changes=None, account=None, amount=None):
        """Append one entry per record of ``records`` (or one without a record).

        ``description``: text, or a callable of the record; ``changes``: text, or
        ``{record id: text}`` per record; ``account``: the
        prepaid account concerned (a recordset, or a callable of the record);
        ``amount``: a figure in the company's currency (or a callable of the
        record). Runs as the system:
        whoever may do the action may have it logged.
        """
        records = records if records else [None]
        vals_list = []
        for record in records:
            the_account = account(record) if callable(account) else account
            the_amount = amount(record) if callable(amount) else amount
            the_description = description(record) if callable(description) else description
            company = (
                record.company_id
                if record is not None and "company_id" in record._fields and record.company_id
                else (the_account.company_id if the_account else self.env.company)
            )
            vals_list.append(
                {
                    "action": action,
                    "user_id": self.env.user.id,
                    "company_id": company.id,
                    "res_model": record._name if record is not None else False,
                    "res_id": record.id if record is not None else False,
                    "record_name": (record.display_name or "") if record is not None else False,
                    "description": the_description,
                    "changes": (
                        changes.get(record.id if record is not None else None)
                        if isinstance(changes, dict)
                        else changes
                    )
                    or False,
                    "account_id": the_account.id if the_account else False,
                    "amount": the_amount or 0.0,
                }
            )
        return self.sudo().with_context(prepaid_audit_logging=True).create(vals_list)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("prepaid_audit_logging"):
            raise UserError(self.env._("The audit log is written by the system only."))
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise UserError(self.env._("The audit log is append-only: entries cannot change."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The audit log is append-only: entries cannot be deleted."))

    def action_open_document(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }
