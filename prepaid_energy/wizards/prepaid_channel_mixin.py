from odoo import api, fields, models

from prepaid_energy_core.vocabulary import RECHARGE, REVERSAL


class PrepaidChannelMixin(models.AbstractModel):
    """The channel (cash or bank journal) and payment method a cashier's wizard books on.

    Shared by the open, recharge and close wizards. A wizard using it has a
    ``company_id`` field and says which way the money goes in
    ``_compute_payment_type``; the payment method then defaults to the
    channel's first method of that direction that books an entry.
    """

    _name = "prepaid.channel.mixin"
    _description = "Payment channel of a cashier's wizard"

    journal_id = fields.Many2one(
        "account.journal",
        string="Channel",
        compute="_compute_journal_id",
        store=True,
        readonly=False,
        domain="[('type', 'in', ('cash', 'bank')), ('company_id', '=', company_id)]",
        help="Cash desk, bank, or another channel set up as a cash or bank journal.",
    )
    payment_type = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")], default="inbound", readonly=True
    )
    payment_method_line_id = fields.Many2one(
        "account.payment.method.line",
        string="Payment method",
        compute="_compute_payment_method_line_id",
        store=True,
        readonly=False,
        domain="[('journal_id', '=', journal_id), ('payment_type', '=', payment_type)]",
    )

    @api.depends("company_id")
    def _compute_journal_id(self):
        """The company's cash desk: what most payments at a property office go through."""
        for wizard in self:
            if wizard.company_id and wizard.journal_id.company_id != wizard.company_id:
                wizard.journal_id = self.env["account.journal"].search(
                    [("company_id", "=", wizard.company_id.id), ("type", "=", "cash")],
                    order="sequence, id",
                    limit=1,
                )

    @api.depends("journal_id", "payment_type")
    def _compute_payment_method_line_id(self):
        for wizard in self:
            wizard.payment_method_line_id = wizard.journal_id._prepaid_payment_method(
                wizard.payment_type
            )

    def _prepare_recharge_vals(self, account, amount, operation=RECHARGE, **values):
        """Values of the ``prepaid.recharge`` this wizard books on its channel.

        A reversal books no payment of its own (it reverses its target's entry),
        so it has no channel. ``values`` completes them (reason, reference,
        reversed document).
        """
        self.ensure_one()
        reversal = operation == REVERSAL
        return {
            "operation": operation,
            "account_id": account.id,
            "amount": amount,
            "journal_id": False if reversal else self.journal_id.id,
            "payment_method_line_id": False if reversal else self.payment_method_line_id.id,
            **values,
        }
