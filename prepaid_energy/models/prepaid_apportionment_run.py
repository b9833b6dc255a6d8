"""One period of a common-area rule: the master figure, each unit's share, the posting.

Computing reads the master figure (the common-area meters' consumption times
the rule's price, a master bill's loss, or figures typed in), the units'
weights (area, own consumption, equal, fixed percentages) and which units
are occupied (a unit with an open prepaid account), and lets the core split
it (prepaid_energy_core.apportion.apportion_units): each share sums exactly
to the master figures. Posting deducts each tenant's share from their wallet
as a fee ledger line (invoiced with the period invoice); vacant units' shares
stay the landlord's.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_repr

from prepaid_energy_core import apportion
from prepaid_energy_core.vocabulary import FEE

from ..tools import timezone
from ..tools.core_errors import raise_as_odoo
from ..tools.metering import local_span, metered_quantities

ONE_DAY = datetime.timedelta(days=1)
QUANTITY_DIGITS = 3
SOURCES = [
    ("meters", "Common-area meters"),
    ("loss", "Loss of a master bill"),
    ("manual", "Figures entered"),
]


def _previous_month():
    first = fields.Date.today().replace(day=1)
    return (first - ONE_DAY).replace(day=1)


class PrepaidApportionmentRun(models.Model):
    _name = "prepaid.apportionment.run"
    _description = "Common-area apportionment of a period"
    _inherit = ["mail.thread"]
    _order = "period_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    rule_id = fields.Many2one(
        "prepaid.apportionment.rule", required=True, index=True, ondelete="restrict", tracking=True
    )
    site_id = fields.Many2one(related="rule_id.site_id", store=True, index=True)
    company_id = fields.Many2one(related="rule_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_start = fields.Date(string="From", required=True, default=lambda self: _previous_month())
    period_end = fields.Date(
        string="To",
        required=True,
        default=lambda self: fields.Date.today().replace(day=1) - ONE_DAY,
        help="Inclusive: the period runs from midnight of its first day to midnight after "
        "its last, on the site's clock.",
    )
    source = fields.Selection(SOURCES, required=True, default="meters")
    master_bill_id = fields.Many2one(
        "prepaid.master.bill", check_company=True, help="Apportion this bill's loss."
    )
    method = fields.Selection(list(apportion.METHOD_LABELS), readonly=True)
    vacant_policy = fields.Selection(
        list(apportion.VACANT_POLICY_LABELS), string="Vacant units", readonly=True
    )
    master_quantity = fields.Float(
        string="Master quantity", digits=(16, QUANTITY_DIGITS), tracking=True
    )
    master_amount = fields.Monetary(string="Master amount", tracking=True)
    price_unit = fields.Float(string="Price per unit", digits="Prepaid Tariff Price", readonly=True)
    share_ids = fields.One2many("prepaid.apportionment.share", "run_id", string="Shares")
    tenants_amount = fields.Monetary(compute="_compute_totals", string="Charged to tenants")
    landlord_amount = fields.Monetary(compute="_compute_totals", string="Landlord's share")
    state = fields.Selection(
        [("draft", "Draft"), ("computed", "Computed"), ("posted", "Posted")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        copy=False,
    )
    date_posted = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [
        (
            "period_in_order",
            "CHECK(period_end >= period_start)",
            "A period cannot end before it starts.",
        ),
    ]

    @api.depends("rule_id.name", "period_start", "period_end")
    def _compute_name(self):
        for run in self:
            run.name = f"{run.rule_id.name or ''} {run.period_start or ''} - {run.period_end or ''}"

    @api.depends("share_ids.amount", "share_ids.landlord", "share_ids.occupied")
    def _compute_totals(self):
        for run in self:
            run.tenants_amount = sum(run.share_ids.filtered("occupied").mapped("amount"))
            run.landlord_amount = sum(run.share_ids.filtered("landlord").mapped("amount"))

    @api.onchange("master_bill_id")
    def _onchange_master_bill_id(self):
        bill = self.master_bill_id
        if bill:
            self.source = "loss"
            self.period_start, self.period_end = bill.period_start, bill.period_end

    def write(self, vals):
        if self.filtered(lambda run: run.state == "posted") and set(vals) - {
            "message_main_attachment_id"
        }:
            raise UserError(self.env._("A posted apportionment cannot change."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_unposted(self):
        if self.filtered(lambda run: run.state == "posted"):
            raise UserError(self.env._("A posted apportionment cannot be deleted."))

    # ------------------------------------------------------------------ computing

    def _span(self):
        """The period as naive UTC ``(start, end)``: midnights on the site's clock."""
        self.ensure_one()
        return local_span(self.site_id, self.company_id, self.period_start, self.period_end)

    def _master_figures(self):
        """``(quantity, amount)`` as Decimal: what is shared."""
        self.ensure_one()
        rule = self.rule_id
        digits = self.currency_id.decimal_places
        price = Decimal(float_repr(rule.price_unit, 6))
        if self.source == "meters":
            if not rule.meter_ids:
                raise UserError(
                    self.env._("Rule %(rule)s has no common-area meter.", rule=rule.name)
                )
            start, end = self._span()
            quantity = sum(metered_quantities(self.env, rule.meter_ids.ids, start, end).values())
            quantity = quantity.quantize(Decimal(1).scaleb(-QUANTITY_DIGITS), ROUND_HALF_UP)
            amount = (quantity * price).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
            return quantity, amount, price
        if self.source == "loss":
            bill = self.master_bill_id
            if not bill:
                raise UserError(self.env._("Choose the master bill whose loss is apportioned."))
            bill._compute_loss_figures()
            quantity = Decimal(float_repr(bill.loss_quantity, QUANTITY_DIGITS))
            amount = Decimal(float_repr(bill.loss_cost, digits))
            if quantity <= 0:
                raise UserError(
                    self.env._(
                        "Master bill %(bill)s shows no loss to apportion (%(loss)s).",
                        bill=bill.display_name,
                        loss=float_repr(bill.loss_quantity, QUANTITY_DIGITS),
                    )
                )
            return quantity, amount, Decimal(0)
        return (
            Decimal(float_repr(self.master_quantity, QUANTITY_DIGITS)),
            Decimal(float_repr(self.master_amount, digits)),
            Decimal(0),
        )

    def _unit_accounts(self, units):
        """``{unit: prepaid.account}``: the open account billed for each occupied unit
        (one with a meter of the rule's utility first)."""
        self.ensure_one()
        accounts = self.env["prepaid.account"].search(
            [("unit_id", "in", units.ids), ("state", "=", "open")], order="id"
        )
        utility = self.rule_id.utility
        result = {}
        for account in accounts:
            has_meter = utility in account.meter_ids.mapped("utility")
            current = result.get(account.unit_id)
            if current is None or (
                has_meter and utility not in current.meter_ids.mapped("utility")
            ):
                result[account.unit_id] = account
        return result

    def _weights(self, lines):
        """``{unit id: Decimal weight}`` of the rule's method for ``lines`` (rule lines)."""
        self.ensure_one()
        method = self.rule_id.method
        if method == apportion.AREA:
            return {line.unit_id.id: Decimal(float_repr(line.unit_id.area, 2)) for line in lines}
        if method == apportion.FIXED_PERCENT:
            return {line.unit_id.id: Decimal(float_repr(line.percent, 4)) for line in lines}
        if method == apportion.CONSUMPTION:
            start, end = self._span()
            meters = lines.unit_id.meter_ids.filtered(
                lambda meter: meter.utility == self.rule_id.utility
            )
            by_meter = metered_quantities(self.env, meters.ids, start, end)
            weights = {line.unit_id.id: Decimal(0) for line in lines}
            for meter in meters:
                weights[meter.unit_id.id] += by_meter[meter.id]
            return weights
        return {line.unit_id.id: None for line in lines}

    def action_compute(self):
        for run in self:
            if run.state == "posted":
                raise UserError(self.env._("A posted apportionment cannot be computed again."))
            rule = run.rule_id
            lines = rule.line_ids
            if not lines:
                raise UserError(
                    self.env._("Rule %(rule)s lists no unit: add its units first.", rule=rule.name)
                )
            rule._check_percentages()
            quantity, amount, price = run._master_figures()
            if amount < 0:
                raise UserError(self.env._("A negative amount cannot be apportioned as a charge."))
            accounts = run._unit_accounts(lines.unit_id)
            weights = run._weights(lines)
            participants = {
                unit_id: apportion.Participant(
                    weight, occupied=self.env["prepaid.location"].browse(unit_id) in accounts
                )
                for unit_id, weight in weights.items()
            }
            vacant = run.site_id.apportion_vacant_policy or apportion.SKIP
            with raise_as_odoo(
                self.env, where=lambda run=run: self.env._("Apportionment %(run)s", run=run.name)
            ):
                statement = apportion.apportion_units(
                    participants,
                    rule.method,
                    amount,
                    quantity=quantity,
                    vacant=vacant,
                    amount_digits=run.currency_id.decimal_places,
                    quantity_digits=QUANTITY_DIGITS,
                )
            units = self.env["prepaid.location"]
            run.write(
                {
                    "method": rule.method,
                    "vacant_policy": vacant,
                    "master_quantity": float(quantity),
                    "master_amount": float(amount),
                    "price_unit": float(price),
                    "state": "computed",
                    "share_ids": [Command.clear()]
                    + [
                        Command.create(
                            run._prepare_share_vals(line, accounts.get(units.browse(line.key)))
                        )
                        for line in statement.lines
                    ],
                }
            )
        return True

    def _prepare_share_vals(self, line, account):
        return {
            "unit_id": line.key,
            "account_id": account.id if account and line.occupied else False,
            "weight": float(line.weight) if line.weight is not None else 0.0,
            "percent": float(line.percent),
            "quantity": float(line.quantity) if line.quantity is not None else 0.0,
            "amount": float(line.amount),
            "occupied": line.occupied,
            "landlord": line.landlord,
            "skipped": line.skipped,
        }

    # ------------------------------------------------------------------ posting

    def action_post(self):
        """Deduct each tenant's share from their wallet (a fee line, invoiced with the period)."""
        self.check_access("write")
        for run in self:
            run_sudo = run.sudo()
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM prepaid_apportionment_run WHERE id = %s FOR NO KEY UPDATE",
                    run.id,
                )
            )
            run_sudo.invalidate_recordset(["state"])
            if run_sudo.state != "computed":
                raise UserError(self.env._("Compute the apportionment before posting it."))
            to_post = run_sudo.share_ids.filtered(
                lambda share: share.account_id and share.occupied and share.amount > 0
            )
            zone = timezone.zone_name(run.site_id, run.company_id)
            vals_list = [
                {
                    "account_id": share.account_id.id,
                    "kind": FEE,
                    "amount": -Decimal(float_repr(share.amount, run.currency_id.decimal_places)),
                    "date": fields.Datetime.now(),
                    # the share belongs to the invoicing period apportioned
                    "date_start": timezone.local_midnight(run.period_start, zone),
                    "description": share._label(),
                    "product_id": run.rule_id.product_id.id,
                }
                for share in to_post
            ]
            lines = self.env["prepaid.account"]._post_ledger_lines(vals_list)
            for share, line in zip(to_post, lines):
                share.ledger_line_id = line
            run_sudo.write({"state": "posted", "date_posted": fields.Datetime.now()})
            self.env["prepaid.audit.log"]._log(
                "apportionment",
                run,
                self.env._(
                    "Apportioned %(amount)s among %(count)s unit(s)",
                    amount=float_repr(run.master_amount, run.currency_id.decimal_places),
                    count=len(to_post),
                ),
                amount=run.tenants_amount,
            )
        return True

    def action_print_statements(self):
        return self.env.ref(
            "prepaid_energy.action_report_prepaid_apportionment_statement"
        ).report_action(self.share_ids.filtered("account_id"), config=False)
