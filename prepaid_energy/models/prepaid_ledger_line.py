from odoo import api, fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import wallet

from ..tools.core_errors import raise_as_odoo

LEDGER_KINDS = [
    ("opening", "Opening balance"),
    ("recharge", "Recharge"),
    ("refund", "Refund"),
    ("reversal", "Reversal"),
    ("consumption", "Consumption"),
    ("fee", "Fee"),
    ("adjustment", "Adjustment"),
    ("transfer_in", "Transfer in"),
    ("transfer_out", "Transfer out"),
]
#: kinds billed on the period invoice
INVOICED_KINDS = ("consumption", "fee")
#: fields that may still change once a line is written: its billing state and label
WRITABLE_FIELDS = frozenset({"invoice_id", "description"})


class PrepaidLedgerLine(models.Model):
    _name = "prepaid.ledger.line"
    _inherit = ["prepaid.bulk.mixin"]
    _description = "Prepaid account ledger line"
    _order = "date desc, id desc"
    _check_company_auto = True

    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    partner_id = fields.Many2one(
        related="account_id.partner_id", string="Tenant", store=True, index=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="account_id.currency_id")
    date = fields.Datetime(
        required=True,
        default=fields.Datetime.now,
        index=True,
        help="When the line was booked; for consumption, the end of what it bills.",
    )
    date_start = fields.Datetime(
        string="From",
        compute="_compute_date_start",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
        help="Consumption: the start of the first interval it bills (a consumption line "
        "never spans an invoicing period boundary). Other lines: their date.",
    )
    kind = fields.Selection(LEDGER_KINDS, required=True, index=True)
    amount = fields.Monetary(
        required=True,
        aggregator="sum",
        help="Signed: credits (recharges, transfers in) are positive, debits negative.",
    )
    balance_after = fields.Monetary(
        string="Balance after",
        aggregator=None,
        readonly=True,
        help="The account balance right after this line was posted.",
    )
    description = fields.Char()
    meter_id = fields.Many2one("prepaid.meter", index="btree_not_null", ondelete="restrict")
    product_id = fields.Many2one(
        "product.product",
        help="Product the line is invoiced with when it has no priced charges (fees).",
    )
    recharge_id = fields.Many2one("prepaid.recharge", index="btree_not_null", ondelete="restrict")
    payment_id = fields.Many2one("account.payment", index="btree_not_null", ondelete="restrict")
    move_id = fields.Many2one(
        "account.move",
        string="Journal entry",
        index="btree_not_null",
        ondelete="restrict",
        help="The accounting entry that books this line (payment, reversal or transfer).",
    )
    charge_ids = fields.One2many("prepaid.charge", "ledger_line_id", string="Charges")
    invoice_id = fields.Many2one(
        "account.move",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )
    reversed_line_id = fields.Many2one(
        "prepaid.ledger.line", string="Reverses", index="btree_not_null", ondelete="restrict"
    )
    reversal_line_ids = fields.One2many(
        "prepaid.ledger.line", "reversed_line_id", string="Reversed by"
    )
    user_id = fields.Many2one(
        "res.users", string="Operator", default=lambda self: self.env.user, readonly=True
    )

    @api.depends("date")
    def _compute_date_start(self):
        # given when posted (consumption); for every other line, and the lines posted
        # before this field existed, the line's own date
        for line in self:
            if not line.date_start:
                line.date_start = line.date

    @api.depends("kind", "amount", "account_id")
    def _compute_display_name(self):
        kinds = dict(LEDGER_KINDS)
        for line in self:
            line.display_name = f"{line.account_id.name or ''} {kinds.get(line.kind, '')}".strip()

    @api.model_create_multi
    def create(self, vals_list):
        # Lines come through prepaid.account._post_ledger_lines (which inserts
        # them with _insert_posted), locking the wallet and running the alarms; a
        # bare create would skip both. No context key opens this door.
        if vals_list:
            raise UserError(
                self.env._(
                    "Ledger lines are posted through the prepaid account "
                    "(recharge, refund, consumption...), never created by hand."
                )
            )
        return super().create(vals_list)

    @api.model
    def _insert_posted(self, vals_list):
        """Insert the lines ``prepaid.account._post_ledger_lines`` prepared (wallets
        locked, signs checked, balances after set).

        Through ``_bulk_create``: a billing run posts a line per meter and period,
        and the ORM's create took ~0.7 ms a line, most of the run (bench/ingest.py).
        The caller checked the wallets and posts as the system. A line without
        ``date_start`` starts at its ``date``.
        """
        now = fields.Datetime.now()
        prepared = []
        for vals in vals_list:
            date = vals.get("date") or now
            prepared.append({**vals, "date": date, "date_start": vals.get("date_start") or date})
        return self._bulk_create(prepared)

    def write(self, vals):
        frozen = set(vals) - WRITABLE_FIELDS
        if frozen:
            raise UserError(
                self.env._(
                    "The prepaid ledger is append-only: %(fields)s cannot change. "
                    "Post a correcting line (adjustment or reversal) instead.",
                    fields=", ".join(sorted(frozen)),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._(
                "The prepaid ledger is append-only: lines cannot be deleted. "
                "Post a correcting line (adjustment or reversal) instead."
            )
        )

    @api.model
    def _check_sign(self, account, kind, amount):
        """Refuse an amount whose sign the kind does not allow (a positive consumption...)."""
        with raise_as_odoo(
            self.env,
            where=lambda: self.env._("Ledger line of %(account)s", account=account.display_name),
        ):
            wallet.check_sign(kind, amount)
