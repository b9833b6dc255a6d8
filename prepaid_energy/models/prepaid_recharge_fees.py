"""Recharges, refunds and reversals: their cashier's shift and the operator audit.

Hooks on prepaid.recharge: a document booked by a cashier with an open shift
belongs to it (the shift of the operator who made it, else of the user who
books it: a manager approving); a site that says so refuses cash from a
cashier without an open shift; booking, approving and rejecting are logged.
"""

from odoo import fields, models
from odoo.exceptions import UserError


class PrepaidRecharge(models.Model):
    _inherit = "prepaid.recharge"

    shift_id = fields.Many2one(
        "prepaid.cashier.shift",
        string="Cashier shift",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
    )

    def _channel_journal(self):
        self.ensure_one()
        return self.journal_id or self.reversed_recharge_id.journal_id

    def _check_cashier_shift(self):
        """Cash taken or paid out on a site that says so needs the cashier's open shift."""
        Shift = self.env["prepaid.cashier.shift"]
        for recharge in self:
            site = recharge.account_id.site_id
            if not site.require_cashier_shift or recharge._channel_journal().type != "cash":
                continue
            if not Shift._open_shift(self.env.user, recharge.company_id):
                raise UserError(
                    self.env._(
                        "Site %(site)s takes cash only within a cashier shift: open your shift "
                        "(Operations > My shift) before this %(operation)s.",
                        site=site.display_name,
                        operation=recharge._operation_label(),
                    )
                )

    def action_confirm(self):
        self.filtered(lambda recharge: recharge.state == "draft")._check_cashier_shift()
        return super().action_confirm()

    def _execute(self):
        result = super()._execute()
        Shift = self.env["prepaid.cashier.shift"]
        shift = Shift._open_shift(self.user_id, self.company_id) or Shift._open_shift(
            self.env.user, self.company_id
        )
        if shift:
            self.sudo().shift_id = shift
            shift.sudo()._sync_channel_lines()  # a channel the shift had not listed yet
        self.env["prepaid.audit.log"]._log(
            self.operation,
            self,
            self.reason or self.env._("%(operation)s booked", operation=self._operation_label()),
            account=self.account_id,
            amount=self.wallet_amount,
        )
        return result

    def action_approve(self):
        result = super().action_approve()
        self.env["prepaid.audit.log"]._log(
            "approval",
            self,
            self.env._("Approved"),
            account=lambda recharge: recharge.account_id,
            amount=lambda recharge: recharge.wallet_amount,
        )
        return result

    def action_reject(self):
        result = super().action_reject()
        self.env["prepaid.audit.log"]._log(
            "rejection",
            self,
            self.env._("Rejected"),
            account=lambda recharge: recharge.account_id,
            amount=lambda recharge: recharge.wallet_amount,
        )
        return result
