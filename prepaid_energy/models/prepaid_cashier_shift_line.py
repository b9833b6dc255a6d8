from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import shifts


class PrepaidCashierShiftLine(models.Model):
    _name = "prepaid.cashier.shift.line"
    _description = "Channel of a cashier shift"
    _order = "shift_id, journal_id"

    shift_id = fields.Many2one(
        "prepaid.cashier.shift", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="shift_id.company_id", store=True)
    currency_id = fields.Many2one(related="shift_id.currency_id")
    journal_id = fields.Many2one(
        "account.journal",
        string="Channel",
        required=True,
        domain="[('type', 'in', ('cash', 'bank')), ('company_id', '=', company_id)]",
    )
    opening_amount = fields.Monetary(string="Float", help="Cash in the drawer at opening.")
    recharge_amount = fields.Monetary(string="Recharges", compute="_compute_totals")
    refund_amount = fields.Monetary(string="Refunds", compute="_compute_totals")
    reversal_amount = fields.Monetary(string="Reversals", compute="_compute_totals")
    document_count = fields.Integer(string="Documents", compute="_compute_totals")
    expected_amount = fields.Monetary(string="Expected", compute="_compute_totals")
    counted_amount = fields.Monetary(string="Counted")
    difference_amount = fields.Monetary(string="Difference", compute="_compute_totals")
    closing_expected = fields.Monetary(readonly=True, help="What was expected at closing.")

    _sql_constraints = [
        ("journal_unique", "UNIQUE(shift_id, journal_id)", "A channel is counted once a shift."),
        ("opening_positive", "CHECK(opening_amount >= 0)", "A float cannot be negative."),
        ("counted_positive", "CHECK(counted_amount >= 0)", "A count cannot be negative."),
    ]

    def write(self, vals):
        if self.shift_id.filtered(lambda shift: shift.state == "closed"):
            raise UserError(self.env._("A closed shift cannot change."))
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        shift_ids = [vals.get("shift_id") for vals in vals_list]
        if (
            self.env["prepaid.cashier.shift"]
            .browse(shift_ids)
            .filtered(lambda shift: shift.state == "closed")
        ):
            raise UserError(self.env._("A closed shift cannot change."))
        return super().create(vals_list)

    @api.depends(
        "opening_amount",
        "counted_amount",
        "shift_id.recharge_ids.state",
        "shift_id.recharge_ids.wallet_amount",
    )
    def _compute_totals(self):
        by_shift = defaultdict(dict)
        for shift in self.shift_id:
            if shift.id:
                by_shift[shift] = shift._channel_totals()
        for line in self:
            totals = by_shift.get(line.shift_id, {}).get(line.journal_id)
            if totals is None:
                totals = shifts.ChannelTotals(
                    line.journal_id, line.shift_id._decimal(line.opening_amount)
                )
            line.recharge_amount = float(totals.recharges)
            line.refund_amount = float(totals.refunds)
            line.reversal_amount = float(totals.reversals)
            line.document_count = totals.count
            line.expected_amount = (
                line.closing_expected if line.shift_id.state == "closed" else float(totals.expected)
            )
            line.difference_amount = line.counted_amount - line.expected_amount
