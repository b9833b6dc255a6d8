from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from prepaid_energy_core.vocabulary import REFUND

from ..models.prepaid_recharge import MANAGER_GROUP


class PrepaidAccountCloseWizard(models.TransientModel):
    """Close an account: final readings, final invoice, settle what is left, close meters."""

    _name = "prepaid.account.close.wizard"
    _inherit = ["prepaid.channel.mixin"]
    _description = "Close a prepaid account"

    account_id = fields.Many2one(
        "prepaid.account", required=True, domain="[('state', '=', 'open')]"
    )
    company_id = fields.Many2one(related="account_id.company_id")
    currency_id = fields.Many2one(related="account_id.currency_id")
    balance = fields.Monetary(related="account_id.balance", string="Current balance")
    line_ids = fields.One2many(
        "prepaid.account.meter.line", "close_wizard_id", string="Meters and final readings"
    )
    settlement = fields.Selection(
        [("refund", "Refund the tenant"), ("transfer", "Transfer to another account")],
        default="refund",
        help="What happens to a positive balance once the final invoice is out.",
    )
    journal_id = fields.Many2one(string="Refund channel")
    payment_type = fields.Selection(default="outbound")
    transfer_account_id = fields.Many2one(
        "prepaid.account",
        string="Transfer to",
        domain="[('state', '=', 'open'), ('id', '!=', account_id), "
        "('company_id', '=', company_id)]",
    )
    reason = fields.Text()

    @api.onchange("account_id")
    def _onchange_account_id(self):
        self.line_ids = [Command.clear()] + [
            Command.create({"meter_id": meter.id, "reading_total": meter.last_total})
            for meter in self.account_id.meter_ids
        ]

    def _check_input(self):
        self.ensure_one()
        account = self.account_id
        if account.state != "open":
            raise UserError(self.env._("Only an open account can be closed."))
        missing = account.meter_ids - self.line_ids.meter_id
        if missing:
            raise UserError(
                self.env._(
                    "Give the final reading of every meter: %(meters)s missing.",
                    meters=", ".join(missing.mapped("display_name")),
                )
            )
        if self.settlement == "transfer" and not self.transfer_account_id:
            raise UserError(self.env._("Choose the account to transfer the balance to."))

    def action_confirm(self):
        self.ensure_one()
        self.account_id.check_access("write")
        self._check_input()
        with self.env.cr.savepoint():
            # the final consumption and the settlement ask nobody for a recharge
            closing = self.with_context(prepaid_closing_account_id=self.account_id.id)._close()
        return {
            "type": "ir.actions.act_window",
            "res_model": "prepaid.account.closing",
            "res_id": closing.id,
            "view_mode": "form",
            "target": "current",
        }

    def _close(self):
        account = self.account_id
        meters = self.line_ids.meter_id
        # Final readings are priced into consumption before the final invoice. Pricing
        # books charges, which only the system writes: privileged once the user's
        # right to change these meters is checked.
        meters.check_access("write")
        for line in self.line_ids:
            line.meter_id.sudo()._close_meter(line.reading_total)
        # the final invoices: one per invoicing period the last consumption falls in
        invoices = account.sudo()._invoice_periods()
        account.invalidate_recordset(["balance"])
        balance = account.balance
        closing_vals = self._settle(balance)
        account.sudo().write({"state": "closed", "date_closed": fields.Datetime.now()})
        account._message_log(
            body=self.env._("Account closed. %(reason)s", reason=self.reason or "")
        )
        return (
            self.env["prepaid.account.closing"]
            .sudo()
            .create(
                {
                    "account_id": account.id,
                    "balance_before_settlement": balance,
                    "final_invoice_id": invoices[-1:].id,
                    "meter_ids": [Command.set(meters.ids)],
                    "reason": self.reason,
                    "final_balance": account.balance,
                    **closing_vals,
                }
            )
            .with_env(self.env)
        )

    def _settle(self, balance):
        """Refund or transfer a positive balance; a negative one stays owed (open invoice)."""
        account = self.account_id
        currency = account.currency_id
        if currency.is_zero(balance):
            return {"settlement": "none", "settlement_amount": 0.0}
        if currency.compare_amounts(balance, 0) < 0:
            return {"settlement": "debt", "settlement_amount": -balance}
        if self.settlement == "transfer":
            self.transfer_account_id.check_access("write")
            account.sudo()._transfer_balance_to(self.transfer_account_id.sudo(), balance)
            return {
                "settlement": "transfer",
                "settlement_amount": balance,
                "transfer_account_id": self.transfer_account_id.id,
            }
        refund = self.env["prepaid.recharge"].create(
            self._prepare_recharge_vals(
                account,
                balance,
                operation=REFUND,
                reason=self.env._("Refund at closing. %(reason)s", reason=self.reason or ""),
            )
        )
        if refund._needs_approval() and not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(
                self.env._(
                    "Refunding %(amount)s is above the site's approval limit: a prepaid manager "
                    "must close this account.",
                    amount=account._format_amount(balance),
                )
            )
        refund.action_confirm()
        return {"settlement": "refund", "settlement_amount": balance, "refund_id": refund.id}
