from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class PrepaidAccountOpenWizard(models.TransientModel):
    """Open a prepaid account for a tenant, or add meters to an open one."""

    _name = "prepaid.account.open.wizard"
    _inherit = ["prepaid.channel.mixin"]
    _description = "Open a prepaid account"

    account_id = fields.Many2one(
        "prepaid.account",
        string="Add to account",
        domain="[('state', '=', 'open')]",
        help="Set to add meters to an open account; empty to open a new one.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Tenant")
    occupancy_id = fields.Many2one(
        "prepaid.occupancy",
        domain="[('company_id', '=', company_id), ('state', '!=', 'ended')]",
        help="Type the tenant, the unit or the site. The account takes the occupancy's unit, "
        "and from the unit's site its alarm thresholds, approval limit and tariff.",
    )
    line_ids = fields.One2many(
        "prepaid.account.meter.line", "open_wizard_id", string="Meters and start readings"
    )
    opening_balance = fields.Monetary(
        help="Balance migrated from a previous system, booked without a payment "
        "(the integrity report lists it as an unbooked movement).",
    )
    transfer_account_id = fields.Many2one(
        "prepaid.account",
        string="Transfer from account",
        domain="[('state', '=', 'open'), ('company_id', '=', company_id)]",
        help="Move the balance of an old account (a previous lease, a replaced wallet).",
    )
    transfer_amount = fields.Monetary(
        compute="_compute_transfer_amount", store=True, readonly=False
    )
    meter_balance = fields.Monetary(
        string="Balance left on an old meter",
        help="Credit the tenant still had on a meter that billed itself.",
    )
    meter_balance_meter_id = fields.Many2one("prepaid.meter", string="Old meter")
    first_recharge_amount = fields.Monetary(string="First recharge")

    @api.depends("transfer_account_id")
    def _compute_transfer_amount(self):
        for wizard in self:
            wizard.transfer_amount = max(wizard.transfer_account_id.balance, 0.0)

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        """A tenant with one current occupancy: that is the one (and its meters)."""
        if self.partner_id and self.occupancy_id.partner_id != self.partner_id:
            occupancies = self._current_occupancies()
            self.occupancy_id = occupancies if len(occupancies) == 1 else False

    @api.onchange("occupancy_id")
    def _onchange_occupancy_id(self):
        if self.occupancy_id:
            self.partner_id = self.occupancy_id.partner_id
            free_meters = self.occupancy_id.unit_id.meter_ids.filtered(
                lambda meter: not meter.account_id
            )
            self.line_ids = [Command.clear()] + [
                Command.create({"meter_id": meter.id, "reading_total": meter.last_total})
                for meter in free_meters
            ]

    def _current_occupancies(self):
        """The tenant's occupancies that have not ended, in the wizard's company."""
        return self.env["prepaid.occupancy"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("state", "!=", "ended"),
            ]
        )

    def _fill_occupancy(self):
        """A new account belongs to an occupancy: take the tenant's only one, or refuse.

        Without a unit the account has no site, so no alarm thresholds, no
        approval limit and no default tariff, and its unit cannot be set once
        it is open: a property manager expects every wallet to sit in a unit.
        """
        self.ensure_one()
        if self.account_id:
            return
        if self.occupancy_id:
            self.partner_id = self.partner_id or self.occupancy_id.partner_id
            return
        if not self.partner_id:
            raise UserError(
                self.env._(
                    "Choose the occupancy (type the tenant, the unit or the site): the "
                    "account takes its unit, and from the unit's site its alarm "
                    "thresholds, approval limit and tariff."
                )
            )
        occupancies = self._current_occupancies()
        if not occupancies:
            menu = self.env.ref("prepaid_energy.menu_prepaid_occupancy").sudo()
            raise UserError(
                self.env._(
                    "%(tenant)s occupies no unit yet. Create the occupancy first in "
                    "%(menu)s (tenant, unit, start date), then open the account for it.",
                    tenant=self.partner_id.display_name,
                    menu=menu.complete_name.replace("/", " > "),
                )
            )
        if len(occupancies) > 1:
            raise UserError(
                self.env._(
                    "%(tenant)s occupies several units (%(units)s): choose the occupancy.",
                    tenant=self.partner_id.display_name,
                    units=", ".join(occupancies.unit_id.mapped("complete_name")),
                )
            )
        self.occupancy_id = occupancies

    def _check_input(self):
        self.ensure_one()
        occupancy = self.occupancy_id
        if not self.account_id and self.partner_id != occupancy.partner_id:
            raise UserError(
                self.env._(
                    "The occupancy %(occupancy)s is not %(tenant)s's.",
                    occupancy=occupancy.display_name,
                    tenant=self.partner_id.display_name,
                )
            )
        if self.account_id and not self.line_ids:
            raise UserError(self.env._("Choose the meters to add."))
        meters = self.line_ids.meter_id
        if len(meters) != len(self.line_ids):
            raise UserError(self.env._("A meter is listed twice."))
        taken = meters.filtered("account_id")
        if taken:
            raise UserError(
                self.env._(
                    "Already on an account: %(meters)s. Close or replace them there first.",
                    meters=", ".join(taken.mapped("display_name")),
                )
            )
        for amount in (self.transfer_amount, self.meter_balance, self.first_recharge_amount):
            if self.currency_id.compare_amounts(amount, 0) < 0:
                raise UserError(self.env._("Amounts to carry or recharge cannot be negative."))
        if self.meter_balance and not self.meter_balance_meter_id:
            raise UserError(self.env._("Say which old meter the balance comes from."))

    def action_confirm(self):
        self.ensure_one()
        self.env["prepaid.account"].check_access("create")
        self._fill_occupancy()
        self._check_input()
        # All or nothing: a refused step leaves no half-opened account behind.
        with self.env.cr.savepoint():
            account = self.account_id or self._create_account()
            self._open_meters(account)
            self._post_opening_movements(account)
            self._first_recharge(account)
        return {
            "type": "ir.actions.act_window",
            "res_model": "prepaid.account",
            "res_id": account.id,
            "view_mode": "form",
            "target": "current",
        }

    def _create_account(self):
        account = self.env["prepaid.account"].create(self._prepare_account_vals())
        account.write({"state": "open", "date_open": fields.Datetime.now()})
        return account

    def _prepare_account_vals(self):
        return {
            "partner_id": self.partner_id.id,
            "occupancy_id": self.occupancy_id.id,
            "unit_id": self.occupancy_id.unit_id.id,
            "company_id": self.company_id.id,
        }

    def _open_meters(self, account):
        for line in self.line_ids:
            line.meter_id._open_on_account(account, line.reading_total)
        if self.line_ids:
            # a note, not a mail: the officer may have no e-mail address
            account._message_log(
                body=self.env._(
                    "Meters opened: %(meters)s.",
                    meters=", ".join(
                        f"{line.meter_id.display_name} @ {line.reading_total:g}"
                        for line in self.line_ids
                    ),
                )
            )
        account.sudo()._sync_meter_states()

    def _post_opening_movements(self, account):
        vals_list = []
        if self.opening_balance:
            vals_list.append(
                {
                    "account_id": account.id,
                    "kind": "opening",
                    "amount": self.opening_balance,
                    "description": self.env._("Opening balance"),
                }
            )
        if self.meter_balance:
            vals_list.append(
                {
                    "account_id": account.id,
                    "kind": "transfer_in",
                    "amount": self.meter_balance,
                    "meter_id": self.meter_balance_meter_id.id,
                    "description": self.env._(
                        "Balance carried from meter %(meter)s",
                        meter=self.meter_balance_meter_id.display_name,
                    ),
                }
            )
        if vals_list:
            account._post_ledger_lines(vals_list)
        if self.transfer_account_id and self.transfer_amount:
            self.transfer_account_id.check_access("write")
            self.transfer_account_id.sudo()._transfer_balance_to(
                account.sudo(), self.transfer_amount
            )

    def _first_recharge(self, account):
        if not self.first_recharge_amount:
            return
        recharge = self.env["prepaid.recharge"].create(
            self._prepare_recharge_vals(
                account,
                self.first_recharge_amount,
                reason=self.env._("First recharge at opening"),
            )
        )
        recharge.action_confirm()
