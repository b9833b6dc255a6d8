from odoo import api, fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import fees

#: what may still change on a posted fee charge: its invoice links
WRITABLE_FIELDS = frozenset({"ledger_line_id", "invoice_id", "invoice_line_id"})


class PrepaidFeeCharge(models.Model):
    """One period of a fee, as it was charged: the history a tenant or auditor asks for."""

    _name = "prepaid.fee.charge"
    _description = "Fee charge"
    _order = "date_from desc, id desc"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "prepaid.fee.subscription", required=True, index=True, ondelete="restrict"
    )
    scheme_id = fields.Many2one(
        related="subscription_id.scheme_id", store=True, string="Fee scheme", index=True
    )
    fee_type = fields.Selection(related="scheme_id.fee_type", store=True)
    account_id = fields.Many2one(
        "prepaid.account", required=True, index=True, ondelete="restrict", check_company=True
    )
    partner_id = fields.Many2one(
        related="account_id.partner_id", string="Tenant", store=True, index=True
    )
    site_id = fields.Many2one(related="account_id.site_id", store=True, index=True)
    unit_id = fields.Many2one(related="account_id.unit_id", store=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="account_id.currency_id")
    collection = fields.Selection(list(fees.COLLECTION_LABELS), required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    date_from = fields.Date(string="From", required=True, index=True)
    date_to = fields.Date(string="To", required=True)
    due_date = fields.Date(string="Charged on", required=True)
    days = fields.Integer(aggregator=None)
    period_days = fields.Integer(aggregator=None)
    full_amount = fields.Monetary(string="Whole period", aggregator=None)
    amount = fields.Monetary(aggregator="sum")
    computation = fields.Char()
    ledger_line_id = fields.Many2one(
        "prepaid.ledger.line", string="Wallet line", index="btree_not_null", ondelete="restrict"
    )
    invoice_id = fields.Many2one(
        "account.move", index="btree_not_null", ondelete="restrict", copy=False
    )
    invoice_line_id = fields.Many2one("account.move.line", ondelete="set null", copy=False)
    payment_state = fields.Selection(related="invoice_id.payment_state", string="Payment")
    invoice_date_due = fields.Date(related="invoice_id.invoice_date_due", string="Due")
    state = fields.Selection(
        [
            ("free", "Nothing to charge"),
            ("deducted", "Deducted from the wallet"),
            ("invoiced", "Invoiced"),
            ("paid", "Paid"),
            ("cancelled", "Invoice cancelled"),
        ],
        compute="_compute_state",
    )

    _sql_constraints = [
        (
            "subscription_day_unique",
            "UNIQUE(subscription_id, date_from)",
            "This period of the fee was charged already.",
        ),
    ]

    @api.depends("amount", "ledger_line_id", "invoice_id.state", "invoice_id.payment_state")
    def _compute_state(self):
        for charge in self:
            invoice = charge.invoice_id
            if charge.ledger_line_id:
                charge.state = "deducted"
            elif invoice and invoice.state == "cancel":
                charge.state = "cancelled"
            elif invoice and invoice.payment_state in ("paid", "in_payment", "reversed"):
                charge.state = "paid"
            elif invoice:
                charge.state = "invoiced"
            else:
                charge.state = "free"

    def _compute_display_name(self):
        for charge in self:
            charge.display_name = (
                f"{charge.scheme_id.name or ''} {charge.date_from or ''} - {charge.date_to or ''}"
            )

    def write(self, vals):
        frozen = set(vals) - WRITABLE_FIELDS
        if frozen:
            raise UserError(
                self.env._(
                    "A fee charge stays as it was charged (%(fields)s cannot change): credit "
                    "the tenant with an adjustment or a credit note instead.",
                    fields=", ".join(sorted(frozen)),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Fee charges cannot be deleted."))
