from odoo import api, fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import wallet

from ..tools.core_errors import raise_as_odoo
from .prepaid_reading import insert_rows

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
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    # Cut-off (contract with the pricing side, which adds this field on its branch):
    # a consumption line starts at the first interval it prices, any other line at its
    # date; ``date`` is the end. Invoicing puts a line in the period of its start.
    date_start = fields.Datetime(
        string="From",
        index=True,
        help="Start of what the line books (consumption: its first priced interval); "
        "the line's date when not given.",
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

    @api.depends("kind", "amount", "account_id")
    def _compute_display_name(self):
        kinds = dict(LEDGER_KINDS)
        for line in self:
            line.display_name = f"{line.account_id.name or ''} {kinds.get(line.kind, '')}".strip()

    @api.model_create_multi
    def create(self, vals_list):
        # Lines come through prepaid.account._post_ledger_lines (which inserts
        # them with _insert_posted), locking the wallet and running the alarms; a
        # bare create would skip both.
        if not self.env.context.get("prepaid_ledger_posting"):
            raise UserError(
                self.env._(
                    "Ledger lines are posted through the prepaid account "
                    "(recharge, refund, consumption...), never created by hand."
                )
            )
        for vals in vals_list:
            vals.setdefault("date", fields.Datetime.now())
            vals.setdefault("date_start", vals["date"])
        return super().create(vals_list)

    @api.model
    def _insert_posted(self, vals_list):
        """Insert the lines ``prepaid.account._post_ledger_lines`` prepared (wallets
        locked, signs checked, balances after set), defaults filled here.

        One INSERT per chunk: a billing run posts a line per meter, and the ORM's
        create took ~0.7 ms a line, most of the run (bench/ingest.py). No access
        check here: the caller checked the wallets and posts as the system.
        """
        now = fields.Datetime.now()
        rows = [{"date": now, "user_id": self.env.uid, **vals} for vals in vals_list]
        for row in rows:
            row.setdefault("date_start", row["date"])
        return insert_rows(self, rows)

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
