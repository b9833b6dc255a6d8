"""A fee scheme on one tenant's prepaid account, and the posting of its charges.

Charges are computed by the core (prepaid_energy_core.fees) from the scheme,
the subscription's dates, the unit's area or the number of units, and the
last day already charged. Posting is all or nothing per call: the fee charges,
their ledger lines (wallet) or invoices (invoice) and the new "charged until"
are written together, and a (subscription, first day) pair is unique, so a
period is never charged twice, even by two transactions at once.
"""

import datetime
import logging
from collections import defaultdict
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_repr

from prepaid_energy_core import fees
from prepaid_energy_core.vocabulary import FEE

from ..tools import timezone
from ..tools.core_errors import raise_as_odoo

_logger = logging.getLogger(__name__)

#: subscriptions posted per cron call; the cron runs again at once while some are left
FEE_BATCH_SIZE = 200
ONE_DAY = datetime.timedelta(days=1)


class PrepaidFeeSubscription(models.Model):
    _name = "prepaid.fee.subscription"
    _description = "Fee on a prepaid account"
    _inherit = ["mail.thread"]
    _order = "account_id, scheme_id, date_start, id"
    _check_company_auto = True

    scheme_id = fields.Many2one(
        "prepaid.fee.scheme",
        string="Fee scheme",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        tracking=True,
    )
    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        tracking=True,
    )
    partner_id = fields.Many2one(
        related="account_id.partner_id", string="Tenant", store=True, index=True
    )
    unit_id = fields.Many2one(related="account_id.unit_id", store=True)
    site_id = fields.Many2one(related="account_id.site_id", store=True, index=True)
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        precompute=True,
        required=True,
        index=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    fee_type = fields.Selection(related="scheme_id.fee_type", store=True)
    basis = fields.Selection(related="scheme_id.basis")
    periodicity = fields.Selection(related="scheme_id.periodicity")
    collection = fields.Selection(related="scheme_id.collection", store=True)
    date_start = fields.Date(
        string="From", required=True, default=fields.Date.context_today, tracking=True
    )
    date_end = fields.Date(string="Until", tracking=True, help="Last day charged; empty: open.")
    own_rate = fields.Float(
        string="Agreed amount or rate",
        digits="Prepaid Tariff Price",
        tracking=True,
        help="What this tenant agreed, when it is not the scheme's; empty (0): the scheme's "
        "amount or rate, which then follows the scheme.",
    )
    rate = fields.Float(
        string="Amount or rate",
        digits="Prepaid Tariff Price",
        compute="_compute_rate",
        help="What is charged: the agreed amount or rate, else the scheme's.",
    )
    quantity = fields.Float(
        string="Units",
        digits=(12, 3),
        compute="_compute_quantity",
        store=True,
        readonly=False,
        precompute=True,
        help="Per-unit fees: the number of units charged (the account's meters for meter rental).",
    )
    area = fields.Float(related="unit_id.area", string="Area (m²)")
    charged_until = fields.Date(
        readonly=True, copy=False, tracking=True, help="The last day already charged."
    )
    next_charge_date = fields.Date(
        compute="_compute_next_charge_date",
        store=True,
        index=True,
        help="The next day to charge; empty once everything is charged.",
    )
    charge_ids = fields.One2many("prepaid.fee.charge", "subscription_id", string="Charges")
    charge_count = fields.Integer(compute="_compute_charge_count")
    active = fields.Boolean(default=True)
    post_error = fields.Char(
        readonly=True,
        copy=False,
        help="Why the last automatic posting failed; the cron skips the subscription until "
        "it is posted by hand (Preview fees).",
    )

    _sql_constraints = [
        (
            "dates_in_order",
            "CHECK(date_end IS NULL OR date_end >= date_start)",
            "A fee cannot end before it starts.",
        ),
        ("rate_positive", "CHECK(own_rate >= 0)", "A fee amount or rate cannot be negative."),
        ("quantity_positive", "CHECK(quantity >= 0)", "A number of units cannot be negative."),
    ]

    @api.depends("account_id")
    def _compute_company_id(self):
        for subscription in self:
            subscription.company_id = subscription.account_id.company_id or self.env.company

    @api.depends("own_rate", "scheme_id.amount")
    def _compute_rate(self):
        for subscription in self:
            subscription.rate = subscription.own_rate or subscription.scheme_id.amount

    @api.depends("scheme_id", "account_id")
    def _compute_quantity(self):
        for subscription in self:
            if subscription.scheme_id.fee_type == fees.METER_RENTAL:
                subscription.quantity = len(subscription.account_id.meter_ids) or 1
            elif not subscription.quantity:
                subscription.quantity = 1

    @api.depends("date_start", "date_end", "charged_until", "scheme_id.periodicity", "active")
    def _compute_next_charge_date(self):
        for subscription in self:
            following = subscription.date_start
            if subscription.charged_until:
                following = max(following, subscription.charged_until + ONE_DAY)
                if subscription.scheme_id.periodicity == fees.ONE_TIME:
                    following = False
            if following and subscription.date_end and following > subscription.date_end:
                following = False
            subscription.next_charge_date = following if subscription.active else False

    @api.depends("charge_ids")
    def _compute_charge_count(self):
        for subscription in self:
            subscription.charge_count = len(subscription.charge_ids)

    def _compute_display_name(self):
        for subscription in self:
            scheme = subscription.scheme_id.name or ""
            subscription.display_name = f"{scheme} - {subscription.account_id.display_name or ''}"

    @api.constrains("account_id", "scheme_id")
    def _check_scheme_site(self):
        for subscription in self:
            site = subscription.scheme_id.site_id
            if site and subscription.account_id.site_id != site:
                raise ValidationError(
                    self.env._(
                        "Fee scheme %(scheme)s is offered on site %(site)s only, not to "
                        "account %(account)s.",
                        scheme=subscription.scheme_id.name,
                        site=site.display_name,
                        account=subscription.account_id.display_name,
                    )
                )

    def write(self, vals):
        charged = self.filtered("charged_until")
        if charged and {"scheme_id", "account_id"} & set(vals):
            raise UserError(
                self.env._(
                    "%(subscriptions)s were charged already: end them and add a new one "
                    "rather than moving them to another scheme or account.",
                    subscriptions=", ".join(charged.mapped("display_name")),
                )
            )
        if charged and "date_start" in vals:
            for subscription in charged:
                if fields.Date.to_date(vals["date_start"]) > subscription.charged_until:
                    raise UserError(
                        self.env._(
                            "%(subscription)s is charged until %(day)s: it cannot start later.",
                            subscription=subscription.display_name,
                            day=subscription.charged_until,
                        )
                    )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_uncharged(self):
        if self.filtered("charge_ids"):
            raise UserError(
                self.env._("A fee that has been charged cannot be deleted: set its end date.")
            )

    # ------------------------------------------------------------------ computing

    def _local_today(self):
        self.ensure_one()
        return self.account_id._local_today()

    def _core_charges(self, until):
        """The charges (core ``FeeCharge``) due up to the date ``until``, after what was
        charged already."""
        self.ensure_one()
        scheme = self.scheme_id
        digits = self.currency_id.decimal_places
        with raise_as_odoo(
            self.env,
            where=lambda: self.env._("Fee %(fee)s", fee=self.display_name),
        ):
            return fees.charges_due(
                scheme.periodicity,
                scheme.basis,
                self._decimal(self.rate, 6),
                self.date_start,
                until,
                end=self.date_end or None,
                charged_until=self.charged_until or None,
                area=self._decimal(self.area, 2) if scheme.basis == fees.PER_AREA else None,
                quantity=self._decimal(self.quantity, 3) if scheme.basis == fees.PER_UNIT else None,
                prorate=scheme.prorate,
                digits=digits,
            )

    @staticmethod
    def _decimal(value, digits):
        return Decimal(float_repr(value or 0.0, digits))

    def _describe(self, charge):
        """How a charge was computed, as a person checks it."""
        self.ensure_one()
        scheme = self.scheme_id
        currency = self.currency_id
        rate = float_repr(self.rate, 4).rstrip("0").rstrip(".")
        full = float_repr(float(charge.full_amount), currency.decimal_places)
        if scheme.basis == fees.PER_AREA:
            text = self.env._(
                "%(area)s m² x %(rate)s = %(full)s",
                area=float_repr(self.area, 2),
                rate=rate,
                full=full,
            )
        elif scheme.basis == fees.PER_UNIT:
            units = float_repr(self.quantity, 3).rstrip("0").rstrip(".")
            text = self.env._("%(units)s x %(rate)s = %(full)s", units=units, rate=rate, full=full)
        else:
            text = full
        if charge.is_partial and scheme.prorate:
            text = self.env._(
                "%(full)s x %(days)s/%(period_days)s days",
                full=text,
                days=charge.days,
                period_days=charge.period_days,
            )
        return text

    def _prepare_charge_vals(self, charge):
        """Values of the prepaid.fee.charge of one core charge."""
        self.ensure_one()
        return {
            "subscription_id": self.id,
            "account_id": self.account_id.id,
            "collection": self.collection,
            "period_start": charge.period_start,
            "period_end": charge.period_end,
            "date_from": charge.start,
            "date_to": charge.end,
            "due_date": charge.due,
            "days": charge.days,
            "period_days": charge.period_days,
            "full_amount": float(charge.full_amount),
            "amount": float(charge.amount),
            "computation": self._describe(charge),
        }

    def _charge_label(self, charge):
        self.ensure_one()
        if charge.start == charge.end:
            return self.env._("%(fee)s (%(day)s)", fee=self.scheme_id.name, day=charge.start)
        return self.env._(
            "%(fee)s %(start)s - %(end)s",
            fee=self.scheme_id.name,
            start=charge.start,
            end=charge.end,
        )

    def _preview(self, until):
        """``[(subscription, core charge)]`` due up to ``until``, posted or not: what a
        posting on that day would book."""
        return [
            (subscription, charge)
            for subscription in self
            for charge in subscription._core_charges(until)
        ]

    # ------------------------------------------------------------------ posting

    def _lock_for_posting(self):
        """One posting per subscription at a time: a second waits, then sees what the
        first charged (or fails to serialize and retries)."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM prepaid_fee_subscription WHERE id IN %s ORDER BY id"
                    " FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )
        self.invalidate_recordset(["charged_until", "next_charge_date"])

    def _post_due_charges(self, until=None):
        """Post the charges due up to ``until`` (a date, at most today on each account's
        clock; default today): ledger lines for wallet fees, invoices for invoiced ones.

        The caller's right to change these subscriptions is checked; the posting
        itself is privileged (ledger lines and invoices are the system's to write).

        :return: the new prepaid.fee.charge records
        """
        self.check_access("write")
        subscriptions = self.sudo()
        subscriptions._lock_for_posting()
        prepared = []  # (subscription, core charge)
        for subscription in subscriptions:
            account = subscription.account_id
            if account.state != "open":
                raise UserError(
                    self.env._(
                        "Account %(account)s is not open: its fees cannot be posted.",
                        account=account.display_name,
                    )
                )
            today = subscription._local_today()
            day = min(until, today) if until else today
            prepared += [(subscription, charge) for charge in subscription._core_charges(day)]
        if not prepared:
            return self.env["prepaid.fee.charge"]
        Charge = self.env["prepaid.fee.charge"].sudo()
        charges = Charge.create(
            [subscription._prepare_charge_vals(charge) for subscription, charge in prepared]
        )
        wallet = [
            (charge, subscription, core)
            for charge, (subscription, core) in zip(charges, prepared)
            if subscription.collection == fees.WALLET
        ]
        invoiced = [
            (charge, subscription, core)
            for charge, (subscription, core) in zip(charges, prepared)
            if subscription.collection == fees.INVOICE
        ]
        subscriptions._deduct_from_wallets(wallet)
        subscriptions._invoice_fee_charges(invoiced)
        last_day = {}
        for subscription, core in prepared:
            last_day[subscription] = max(last_day.get(subscription, core.end), core.end)
        for subscription, day in last_day.items():
            subscription.write({"charged_until": day, "post_error": False})
        self.env["prepaid.audit.log"]._log(
            "fee_posting",
            charges,
            self.env._("Fee charged"),
            account=lambda charge: charge.account_id,
            amount=lambda charge: charge.amount,
        )
        return charges.with_env(self.env)

    def _deduct_from_wallets(self, entries):
        """Post a fee ledger line per charge (``(fee charge, subscription, core charge)``)."""
        to_post = [entry for entry in entries if entry[2].amount > 0]
        if not to_post:
            return
        vals_list = []
        for _charge, subscription, core in to_post:
            account = subscription.account_id
            vals_list.append(
                {
                    "account_id": account.id,
                    "kind": FEE,
                    "amount": -core.amount,
                    "date": fields.Datetime.now(),
                    # cut-off: the fee belongs to the invoicing period of its first day
                    "date_start": timezone.local_midnight(core.start, account._site_zone()),
                    "description": subscription._charge_label(core),
                    "product_id": subscription.scheme_id.product_id.id,
                }
            )
        lines = self.env["prepaid.account"]._post_ledger_lines(vals_list)
        for (charge, _subscription, _core), line in zip(to_post, lines):
            charge.ledger_line_id = line

    def _invoice_fee_charges(self, entries):
        """One posted customer invoice per account, due day and due delay, a line per charge.

        These invoices are the tenant's ordinary receivables (not the wallet's): they
        are paid like any invoice, follow-up applies, and the wallet never pays them.
        """
        entries = [entry for entry in entries if entry[2].amount > 0]
        if not entries:
            return
        groups = defaultdict(list)
        for entry in entries:
            _charge, subscription, core = entry
            groups[(subscription.account_id, core.due, subscription.scheme_id.due_days)].append(
                entry
            )
        Move = self.env["account.move"]
        by_company = defaultdict(list)
        for (account, due, due_days), group in groups.items():
            by_company[account.company_id].append((group, account, due, due_days))
        for company, prepared in by_company.items():
            invoices = Move.with_company(company).create(
                [
                    self._prepare_fee_invoice_vals(account, due, due_days, group)
                    for group, account, due, due_days in prepared
                ]
            )
            invoices._check_prepaid_taxes_included()
            for invoice, (group, *_rest) in zip(invoices, prepared):
                lines = invoice.invoice_line_ids.sorted("sequence")
                for (charge, _subscription, _core), line in zip(group, lines):
                    charge.write({"invoice_id": invoice.id, "invoice_line_id": line.id})
            invoices.action_post()

    @api.model
    def _prepare_fee_invoice_vals(self, account, due, due_days, group):
        partner = account.partner_id.commercial_partner_id
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "journal_id": account._invoicing_journal().id,
            "invoice_date": due,
            # the scheme's delay, not the tenant's usual payment terms
            "invoice_payment_term_id": False,
            "invoice_date_due": due + datetime.timedelta(days=due_days),
            "currency_id": account.currency_id.id,
            "prepaid_fee_account_id": account.id,
            "ref": self.env._("Fees of %(account)s", account=account.name),
            "invoice_line_ids": [
                Command.create(
                    {
                        "sequence": sequence,
                        "product_id": subscription.scheme_id.product_id.id,
                        "name": subscription._charge_label(core),
                        "quantity": 1.0,
                        "price_unit": float(core.amount),
                    }
                )
                for sequence, (_charge, subscription, core) in enumerate(group, start=10)
            ],
        }

    # ------------------------------------------------------------------ cron

    @api.model
    def _subscriptions_due(self):
        """Running subscriptions of open accounts with a charge due today on their clock."""
        candidates = self.search(
            [
                ("next_charge_date", "!=", False),
                # the site clocks are at most a day ahead of UTC
                ("next_charge_date", "<=", fields.Date.today() + ONE_DAY),
                ("account_id.state", "=", "open"),
                ("post_error", "=", False),
            ],
            order="account_id, id",
        )
        return candidates.filtered(
            lambda subscription: subscription.next_charge_date <= subscription._local_today()
        )

    @api.model
    def _cron_post_due_fees(self, batch_size=FEE_BATCH_SIZE):
        """Post the fees due today, a batch of subscriptions per call.

        Each account's subscriptions post together in a savepoint: one failing
        account (a product tax not included, a missing journal) is noted on its
        subscriptions and skipped, the others post.
        """
        due = self._subscriptions_due()
        batch = due[:batch_size]
        accounts = batch.account_id
        batch |= due[batch_size:].filtered(lambda subscription: subscription.account_id in accounts)
        posted, failed = self.env["prepaid.fee.charge"], self.browse()
        for subscriptions in batch.grouped("account_id").values():
            try:
                with self.env.cr.savepoint():
                    posted |= subscriptions._post_due_charges()
            except (UserError, ValidationError) as error:
                message = error.args[0] if error.args else str(error)
                _logger.warning("Prepaid fees of %s failed: %s", subscriptions.ids, message)
                subscriptions.write({"post_error": message})
                for subscription in subscriptions:
                    subscription.message_post(
                        body=self.env._("Automatic fee posting failed: %(error)s", error=message)
                    )
                failed |= subscriptions
        remaining = len(due) - len(batch)
        _logger.info(
            "Prepaid fees: %d charge(s) for %d subscription(s), %d failed, %d left",
            len(posted),
            len(batch),
            len(failed),
            remaining,
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return posted

    # ------------------------------------------------------------------ actions

    def action_preview(self):
        return self.env["prepaid.fee.preview.wizard"]._action_open(
            {"default_subscription_ids": self.ids}
        )

    def action_view_charges(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Fee charges"),
            "res_model": "prepaid.fee.charge",
            "view_mode": "list,form",
            "domain": [("subscription_id", "=", self.id)],
            "context": {"create": False},
        }
