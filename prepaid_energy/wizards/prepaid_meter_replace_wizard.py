from odoo import api, fields, models
from odoo.exceptions import UserError


class PrepaidMeterReplaceWizard(models.TransientModel):
    """Swap a meter on an account: bill the old one to its final reading, start the new one.

    The balance stays on the account: the wallet, not the meter, holds the money.
    """

    _name = "prepaid.meter.replace.wizard"
    _description = "Replace a meter"

    account_id = fields.Many2one(
        "prepaid.account", required=True, domain="[('state', '=', 'open')]"
    )
    company_id = fields.Many2one(related="account_id.company_id")
    old_meter_id = fields.Many2one(
        "prepaid.meter",
        string="Old meter",
        required=True,
        domain="[('account_id', '=', account_id)]",
    )
    old_last_total = fields.Float(related="old_meter_id.last_total", string="Last reading")
    old_final_total = fields.Float(string="Final reading", digits=(16, 4), required=True)
    new_meter_id = fields.Many2one(
        "prepaid.meter",
        string="New meter",
        required=True,
        domain="[('account_id', '=', False), ('company_id', '=', company_id)]",
    )
    new_start_total = fields.Float(string="Start reading", digits=(16, 4))
    reason = fields.Text()

    @api.onchange("old_meter_id")
    def _onchange_old_meter_id(self):
        if self.old_meter_id and not self.old_final_total:
            self.old_final_total = self.old_meter_id.last_total

    def action_confirm(self):
        self.ensure_one()
        self.account_id.check_access("write")
        old, new = self.old_meter_id, self.new_meter_id
        if old.account_id != self.account_id:
            raise UserError(
                self.env._(
                    "Meter %(meter)s does not bill account %(account)s.",
                    meter=old.display_name,
                    account=self.account_id.display_name,
                )
            )
        if new.account_id:
            raise UserError(
                self.env._(
                    "Meter %(meter)s already bills account %(account)s.",
                    meter=new.display_name,
                    account=new.account_id.display_name,
                )
            )
        if old.utility != new.utility:
            raise UserError(self.env._("A meter is replaced by one of the same utility."))
        (old | new).check_access("write")
        with self.env.cr.savepoint():
            # closing prices the last readings into charges: the system's job
            old.sudo()._close_meter(self.old_final_total)
            if not new.unit_id:
                new.unit_id = old.unit_id
            new._open_on_account(self.account_id, self.new_start_total)
            self.account_id.sudo()._sync_meter_states()
            self.account_id._message_log(
                body=self.env._(
                    "Meter %(old)s (final reading %(final)s) replaced by %(new)s (start reading "
                    "%(start)s). %(reason)s",
                    old=old.display_name,
                    final=format(self.old_final_total, "g"),
                    new=new.display_name,
                    start=format(self.new_start_total, "g"),
                    reason=self.reason or "",
                )
            )
        return {"type": "ir.actions.act_window_close"}
