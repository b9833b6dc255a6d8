from collections import defaultdict
from decimal import Decimal

from markupsafe import Markup
from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_is_zero, float_repr
from odoo.tools.misc import formatLang

from prepaid_energy_core import errors as core_errors
from prepaid_energy_core import money, wallet

from ..tools import bulk, timezone
from ..tools.core_errors import raise_as_odoo

ALARM_LEVELS = [
    ("normal", "Normal"),
    ("alarm1", "Alarm 1"),
    ("alarm2", "Alarm 2"),
    ("arrears", "Arrears"),
]
#: meter states the wallet drives; tripped, offline and not opened belong to the hardware
WALLET_METER_STATES = ("normal", "alarm1", "alarm2", "arrears")
#: what posting reads of the wallets (fetched at once after the lock)
POSTING_FIELDS = [
    "state",
    "balance",
    "company_id",
    "site_id",
    "alarm_state",
    "alarm_level",
    "credit_limit",
    "emergency_credit_amount",
    "emergency_credit_active",
]


class PrepaidAccount(models.Model):
    _name = "prepaid.account"
    _description = "Prepaid account (wallet)"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name desc, id desc"
    _check_company_auto = True
    # what a cashier types to find a wallet: its number, the tenant, the unit, a meter
    # serial or the tenant's phone (ui: issue 7 item 14)
    _rec_names_search = [
        "name",
        "partner_id",
        "unit_id",
        "meter_ids.serial",
        "partner_id.phone",
        "partner_id.mobile",
    ]

    name = fields.Char(required=True, readonly=True, copy=False, default="/", index="trigram")
    partner_id = fields.Many2one(
        "res.partner", string="Tenant", required=True, index=True, tracking=True
    )
    occupancy_id = fields.Many2one(
        "prepaid.occupancy", index=True, check_company=True, tracking=True
    )
    unit_id = fields.Many2one(
        "prepaid.location",
        compute="_compute_unit_id",
        store=True,
        readonly=False,
        index=True,
        check_company=True,
        domain="[('location_type', '=', 'unit')]",
    )
    site_id = fields.Many2one(related="unit_id.site_id", store=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("draft", "Draft"), ("open", "Open"), ("closed", "Closed")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    date_open = fields.Datetime(string="Opened on", readonly=True, copy=False)
    date_closed = fields.Datetime(string="Closed on", readonly=True, copy=False)
    meter_ids = fields.One2many("prepaid.meter", "account_id", string="Meters")
    meter_count = fields.Integer(compute="_compute_meter_count")
    ledger_line_ids = fields.One2many("prepaid.ledger.line", "account_id", string="Ledger")
    # Not tracked: every posting moves it, the ledger is its history; the chatter
    # logs the alarm level and state changes instead.
    balance = fields.Monetary(
        compute="_compute_balance", store=True, help="Sum of the ledger lines."
    )
    uninvoiced_amount = fields.Monetary(
        string="Not yet invoiced",
        compute="_compute_uninvoiced_amount",
        compute_sudo=True,  # looks at invoice states, which cashiers may not read
        help="Consumption and fees deducted from the wallet but not invoiced yet.",
    )
    alarm_level = fields.Selection(
        ALARM_LEVELS, default="normal", required=True, readonly=True, tracking=True, copy=False
    )
    alarm_state = fields.Json(
        readonly=True, copy=False, help="Levels already notified since the last recharge."
    )
    credit_limit = fields.Monetary(
        compute="_compute_credit_limit",
        store=True,
        readonly=False,
        tracking=True,
        help="How far below the arrears threshold the tenant may consume before "
        "disconnection. Defaults to the site's.",
    )
    emergency_credit_amount = fields.Monetary(
        string="Emergency credit",
        tracking=True,
        help="A one-off advance the tenant may activate; a recharge repays it.",
    )
    emergency_credit_active = fields.Boolean(
        string="Emergency credit in use", readonly=True, tracking=True, copy=False
    )
    available_credit = fields.Monetary(
        compute="_compute_available_credit",
        help="What may still be consumed before disconnection.",
    )
    in_arrears = fields.Boolean(
        compute="_compute_available_credit",
        help="At or below the disconnection floor (arrears threshold minus credit).",
    )
    recharge_ids = fields.One2many("prepaid.recharge", "account_id", string="Recharges")
    recharge_count = fields.Integer(compute="_compute_recharge_count")
    invoice_ids = fields.Many2many(
        "account.move",
        compute="_compute_invoice_ids",
        string="Invoices",
        help="Invoices and credit notes billing this wallet (alone or with the tenant's others).",
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    closing_ids = fields.One2many("prepaid.account.closing", "account_id")
    invoice_error = fields.Char(
        readonly=True,
        copy=False,
        help="Why the last automatic invoicing failed. The cron skips the account until "
        "it is invoiced from the invoicing wizard.",
    )

    _sql_constraints = [
        (
            "name_company_unique",
            "UNIQUE(name, company_id)",
            "A prepaid account number is unique per company.",
        ),
        (
            "credit_not_negative",
            "CHECK(credit_limit >= 0 AND emergency_credit_amount >= 0)",
            "Credit limit and emergency credit cannot be negative.",
        ),
    ]

    # ------------------------------------------------------------------ computes

    @api.depends("name", "partner_id")
    def _compute_display_name(self):
        for account in self:
            account.display_name = f"{account.name} {account.partner_id.name or ''}".strip()

    @api.depends("occupancy_id")
    def _compute_unit_id(self):
        for account in self:
            if account.occupancy_id:
                account.unit_id = account.occupancy_id.unit_id

    @api.depends("site_id")
    def _compute_credit_limit(self):
        for account in self:
            if not account.credit_limit:
                account.credit_limit = account.site_id.credit_limit

    @api.depends("meter_ids")
    def _compute_meter_count(self):
        for account in self:
            account.meter_count = len(account.meter_ids)

    @api.depends("recharge_ids")
    def _compute_recharge_count(self):
        for account in self:
            account.recharge_count = len(account.recharge_ids)

    # the ledger lines an invoice bills, or the credit note that gives them back
    @api.depends("ledger_line_ids.invoice_id", "ledger_line_ids.move_id")
    def _compute_invoice_ids(self):
        moves = self.env["account.move"].search(
            [
                ("move_type", "in", ("out_invoice", "out_refund")),
                "|",
                ("prepaid_account_id", "in", self.ids),
                ("invoice_line_ids.prepaid_account_id", "in", self.ids),
            ],
            order="id",
        )
        for account in self:
            account.invoice_ids = moves.filtered(
                lambda move, account=account: (
                    move.prepaid_account_id == account._origin
                    or account._origin in move.invoice_line_ids.prepaid_account_id
                )
            )

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        for account in self:
            account.invoice_count = len(account.invoice_ids)

    @api.depends("ledger_line_ids.amount")
    def _compute_balance(self):
        sums = dict(
            self.env["prepaid.ledger.line"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["amount:sum"]
            )
        )
        for account in self:
            account.balance = sums.get(account._origin, 0.0)

    def _compute_uninvoiced_amount(self):
        lines_by_account = self._uninvoiced_lines().grouped("account_id")
        for account in self:
            lines = lines_by_account.get(account._origin, self.env["prepaid.ledger.line"])
            account.uninvoiced_amount = -sum(lines.mapped("amount"))

    @api.depends(
        "state",
        "balance",
        "credit_limit",
        "emergency_credit_amount",
        "emergency_credit_active",
        "site_id.arrears_amount",
    )
    def _compute_available_credit(self):
        for account in self:
            thresholds = account._get_wallet_thresholds()
            balance = account._to_decimal(account.balance)
            credit = account._get_wallet_credit()
            account.available_credit = float(wallet.available_credit(balance, thresholds, credit))
            # only a running wallet can be in arrears: closing ends the alarms
            account.in_arrears = account.state == "open" and wallet.is_in_arrears(
                balance, thresholds, credit
            )

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self._next_number(company, "prepaid.account", "PA/")
        accounts = super().create(vals_list)
        for account in accounts:
            account.message_subscribe(partner_ids=account.partner_id.ids)
        accounts.filtered(lambda account: account.state != "draft")._sync_alarms_with_state()
        return accounts

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            self._sync_alarms_with_state()
        return result

    def _sync_alarms_with_state(self):
        """An opened wallet's alarm level follows its balance from the start (a new
        account at 0 is in arrears); closing ends the alarms (level back to normal,
        nothing notified is remembered). No notification either way: a tenant is
        told when the balance falls, not when the account changes state."""
        for account in self:
            previous = account.alarm_level
            if account.state == "open":
                balance = account._to_decimal(account.balance)
                values = {"alarm_level": wallet.level(balance, account._get_wallet_thresholds())}
            else:
                values = {"alarm_level": "normal", "alarm_state": {}}
            changed = {name: value for name, value in values.items() if account[name] != value}
            if not changed:
                continue
            account.write(changed)  # no "state" in it: no recursion
            if account.alarm_level != previous:
                account._on_alarm_level_changed(previous)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_unused(self):
        for account in self:
            if account.ledger_line_ids or account.state != "draft":
                raise UserError(
                    self.env._(
                        "Account %(account)s has been used: close it instead of deleting it.",
                        account=account.display_name,
                    )
                )

    @api.model
    def _next_number(self, company, code, prefix):
        """Next number of the per-company sequence ``code``; created on first use."""
        # sequences are settings: numbering does not need the user's rights on them
        sequence_sudo = self.env["ir.sequence"].sudo()
        domain = [("code", "=", code), ("company_id", "=", company.id)]
        if not sequence_sudo.search_count(domain, limit=1):
            # First use in this company. Touching the company row makes a concurrent
            # first use wait, fail to serialize and retry: it then finds this sequence
            # instead of creating a second one.
            self.env.cr.execute(
                SQL("UPDATE res_company SET write_date = write_date WHERE id = %s", company.id)
            )
            sequence_sudo.create(
                {
                    "name": f"{code} ({company.name})",
                    "code": code,
                    "prefix": f"{prefix}%(year)s/",
                    "padding": 5,
                    "company_id": company.id,
                }
            )
        return sequence_sudo.with_company(company).next_by_code(code)

    # ------------------------------------------------------------------ money helpers

    def _to_decimal(self, amount, currency=None):
        """``amount`` (float, str, int or Decimal) as an exact Decimal in the currency's cents.

        Refuses an amount finer than the currency allows: a caller that did
        not round would otherwise lose or invent fractions of a cent. Floats
        are read at the currency's precision (their binary noise dropped).
        ``currency``: the account's, when the caller has it already.
        """
        currency = currency or self.currency_id or self.env.company.currency_id
        digits = currency.decimal_places
        if isinstance(amount, float):
            # fast path, same result: a float that prints in whole cents (stored balances)
            exact = Decimal(repr(amount))
            if exact == money.round_money(exact, digits):
                return money.round_money(exact, digits)
            rounded = currency.round(amount)
            fine = not float_is_zero(amount - rounded, precision_digits=digits + 4)
            value = Decimal(repr(amount)) if fine else Decimal(float_repr(rounded, digits))
        else:
            value = money.to_decimal(amount, "amount")
        if value != money.round_money(value, digits):
            raise ValidationError(
                self.env._(
                    "Amount %(amount)s has more decimals than %(currency)s allows; "
                    "round it before posting.",
                    amount=value,
                    currency=currency.name,
                )
            )
        return money.round_money(value, digits)

    def _format_amount(self, amount):
        return formatLang(self.env, float(amount), currency_obj=self.currency_id)

    def _site_zone(self):
        """The clock of the account: its site's time zone, else its company's, never the
        user's (invoicing periods and the times tenants read follow it)."""
        self.ensure_one()
        return timezone.zone_name(self.site_id, self.company_id)

    def _get_wallet_thresholds(self):
        """The site's alarm thresholds as core Thresholds (the site checks them).

        An account without a site has no warnings and is in arrears at 0.
        """
        self.ensure_one()
        if not self.site_id:
            return wallet.Thresholds(alarm1=None, alarm2=None)
        return self.site_id._get_wallet_thresholds()

    def _get_wallet_credit(self, currency=None):
        self.ensure_one()
        return wallet.Credit(
            credit_limit=self._to_decimal(self.credit_limit, currency),
            emergency_amount=self._to_decimal(self.emergency_credit_amount, currency),
            emergency_active=self.emergency_credit_active and bool(self.emergency_credit_amount),
        )

    def _get_max_balance(self):
        """The site's maximum balance as Decimal, None when there is no cap (0)."""
        self.ensure_one()
        cap = self.site_id.max_balance
        return self._to_decimal(cap) if cap else None

    # ------------------------------------------------------------------ ledger posting

    def _lock_for_update(self):
        """Serialize every balance change of these wallets.

        Under REPEATABLE READ a second transaction waiting here fails with a
        serialization error once the first commits (a posting always writes the
        rows: ``_write_balances``), and is retried from the start with a fresh
        snapshot: no balance update is ever lost.
        """
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM prepaid_account WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )
        self.invalidate_recordset()

    def _check_open_for_posting(self):
        # a credit note may still give money back to a closed account (a debt cancelled)
        closed_ok = self.env.context.get("prepaid_credit_note")
        for account in self:
            if account.state != "open" and not (closed_ok and account.state == "closed"):
                raise UserError(
                    self.env._(
                        "Account %(account)s is %(state)s: nothing can be posted on it.",
                        account=account.display_name,
                        state=dict(self._fields["state"].selection)[account.state].lower(),
                    )
                )

    @api.model
    def _post_ledger_lines(self, vals_list):
        """Append ledger lines to their accounts, then run the wallet rules.

        Each vals needs ``account_id``, ``kind`` and the signed ``amount``;
        ``date``, ``date_start``, ``description`` and links (``meter_id``,
        ``recharge_id``, ``payment_id``, ``move_id``, ``reversed_line_id``,
        ``product_id``) are optional. Locks the wallets, sets each line's balance
        after, updates balance, alarm level and state, emergency credit and meter
        states, and notifies the tenant once per downward crossing of a threshold.

        :return: the new prepaid.ledger.line records, in the order given
        """
        Line = self.env["prepaid.ledger.line"]
        if not vals_list:
            return Line
        accounts = self.browse(sorted({vals["account_id"] for vals in vals_list}))
        # The caller checked its own document (recharge, reading, wizard); the
        # wallet only has to be one the user may see. Posting itself is
        # privileged: cashiers never write accounts or ledger lines directly.
        accounts.check_access("read")
        accounts_sudo = accounts.sudo()
        line_sudo = Line.sudo()
        accounts_sudo._lock_for_update()
        facts = accounts_sudo._posting_facts()
        not_open = [account_id for account_id, row in facts.items() if row["state"] != "open"]
        if not_open:
            accounts_sudo.browse(not_open)._check_open_for_posting()
        companies = self.env["res.company"].browse({row["company_id"] for row in facts.values()})
        currencies = {company.id: company.currency_id for company in companies}
        quanta = {
            key: money.quantum(currency.decimal_places) for key, currency in currencies.items()
        }
        old_balances = {
            account_id: money.round_money(
                Decimal(repr(row["balance"] or 0.0)), currencies[row["company_id"]].decimal_places
            )
            for account_id, row in facts.items()
        }
        running = dict(old_balances)
        moves = defaultdict(list)  # account id -> [(kind, amount)] in posting order
        prepared = []
        for vals in vals_list:
            account_id, kind = vals["account_id"], vals["kind"]
            company_id = facts[account_id]["company_id"]
            amount = vals["amount"]
            exact = isinstance(amount, Decimal) and amount.is_finite()
            if not (exact and amount == amount.quantize(quanta[company_id])):
                # floats, texts, or too many decimals: the money helper decides (or says why)
                account = accounts_sudo.browse(account_id)
                amount = account._to_decimal(amount, currencies[company_id])
            try:
                wallet.check_sign(kind, amount)
            except core_errors.ValidationError:
                line_sudo._check_sign(accounts_sudo.browse(account_id), kind, amount)  # says why
            running[account_id] += amount
            moves[account_id].append((kind, amount))
            prepared.append({**vals, "amount": amount, "balance_after": running[account_id]})
        lines = line_sudo._insert_posted(prepared)
        accounts_sudo._write_balances(running)
        accounts_sudo._apply_wallet_rules(moves, old_balances, facts)
        return lines.with_env(self.env)

    def _posting_facts(self):
        """``{account id: {field: value}}`` of ``POSTING_FIELDS``, read in one query (the
        wallets are locked: nothing else changes them until the transaction ends)."""
        self.flush_recordset(POSTING_FIELDS)
        rows = self.env.execute_query(
            SQL(
                "SELECT id, %s FROM prepaid_account WHERE id = ANY(%s)",
                SQL(", ").join(SQL.identifier(fname) for fname in POSTING_FIELDS),
                self.ids,
            )
        )
        facts = {row[0]: dict(zip(POSTING_FIELDS, row[1:])) for row in rows}
        for row in facts.values():  # as the ORM reads them
            row["emergency_credit_active"] = bool(row["emergency_credit_active"])
            row["credit_limit"] = row["credit_limit"] or 0.0
            row["emergency_credit_amount"] = row["emergency_credit_amount"] or 0.0
        return facts

    def _write_balances(self, balances):
        """Store the balances after a posting (``{account id: Decimal}``) in one UPDATE.

        Every posted wallet is written, changed or not: that UPDATE is what makes a
        concurrent posting waiting in ``_lock_for_update`` fail to serialize and
        retry. The new lines were summed under the lock, so the old balance plus
        them is the compute's sum, without summing the whole ledger again.
        """
        self.env.remove_to_compute(self._fields["balance"], self)  # marked by the new lines
        bulk.write(self, ["balance"], list(balances.items()))

    def _apply_wallet_rules(self, moves, old_balances, facts=None):
        """Advance alarms and emergency credit over the new ledger amounts.

        ``moves``: ``{account id: [(kind, Decimal amount), ...]}`` in posting
        order; ``old_balances``: ``{account id: Decimal}`` before them;
        ``facts``: ``_posting_facts()`` read before them. Only the values that
        change are written (``_write_balances`` wrote every row already), one
        write per set of identical values.
        """
        facts = self._posting_facts() if facts is None else facts
        companies = self.env["res.company"].browse({row["company_id"] for row in facts.values()})
        currency_of = {company.id: company.currency_id for company in companies}
        thresholds_of, credit_of = {}, {}  # shared by the wallets of a site / of equal credit
        to_write = defaultdict(list)  # changed values (as a hashable key) -> account ids
        notified, level_changes = [], []
        for account_id, account_moves in moves.items():
            row = facts[account_id]
            key = (row["site_id"], row["company_id"])
            if key not in thresholds_of:
                thresholds_of[key] = self.browse(account_id)._get_wallet_thresholds()
            thresholds = thresholds_of[key]
            key = (
                row["company_id"],
                row["credit_limit"],
                row["emergency_credit_amount"],
                row["emergency_credit_active"],
            )
            if key not in credit_of:
                credit_of[key] = self.browse(account_id)._get_wallet_credit(
                    currency_of[row["company_id"]]
                )
            credit = credit_of[key]
            stored_state = row["alarm_state"]
            alarm_state = wallet.AlarmState.from_dict(stored_state)
            balance = old_balances[account_id]
            notifications = []
            for kind, amount in account_moves:
                new_balance = balance + amount
                with raise_as_odoo(self.env):
                    alarm_state, due = wallet.evaluate(
                        alarm_state, balance, new_balance, kind, thresholds
                    )
                notifications.extend(due)
                credit = wallet.settle_emergency_credit(credit, balance, new_balance, thresholds)
                balance = new_balance
            values = {
                "alarm_state": alarm_state.to_dict(),
                "alarm_level": wallet.level(balance, thresholds),
                "emergency_credit_active": credit.emergency_active,
            }
            changed = tuple(
                (fname, tuple(value.items()) if fname == "alarm_state" else value)
                for fname, value in values.items()
                if row[fname] != value
            )
            if changed:
                to_write[changed].append(account_id)
            if notifications:
                notified.append((self.browse(account_id), notifications))
            if values["alarm_level"] != row["alarm_level"]:
                level_changes.append((self.browse(account_id), row["alarm_level"]))
        for changed, account_ids in to_write.items():
            self.browse(account_ids).write(
                {
                    fname: dict(value) if fname == "alarm_state" else value
                    for fname, value in changed
                }
            )
        for account, notifications in notified:
            account._notify_alarms(notifications)
        self._sync_meter_states()
        for account, previous_level in level_changes:
            account._on_alarm_level_changed(previous_level)

    def _on_alarm_level_changed(self, previous_level):
        """Hook: the wallet's alarm level just changed from ``previous_level``.

        Called inside the money transaction. Extensions (the hardware addon)
        queue their relay commands here; the meters are only talked to after
        commit.
        """

    def _notify_alarms(self, notifications):
        """Tell the tenant (a follower) about each threshold the balance fell to.

        Not while the account is being closed: its final consumption and the
        settlement are no reason to ask a departing tenant for a recharge.
        """
        self.ensure_one()
        if self.env.context.get("prepaid_closing_account_id") == self.id:
            return
        labels = dict(ALARM_LEVELS)
        zone = self._site_zone()
        when = self.env._(
            "%(time)s, %(zone)s time",
            time=timezone.format_local(self.env, fields.Datetime.now(), zone),
            zone=zone,
        )
        for notification in notifications:
            body = self.env._(
                "%(level)s: the balance of prepaid account %(account)s is %(balance)s "
                "(%(when)s), at or below %(threshold)s. Please recharge.",
                level=labels[notification.level],
                account=self.name,
                balance=self._format_amount(notification.balance),
                when=when,
                threshold=self._format_amount(notification.threshold),
            )
            self.message_post(
                body=Markup("<p>%s</p>") % body,
                subject=self.env._("Low balance: %(account)s", account=self.name),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )

    def _sync_meter_states(self):
        """Give the wallet-driven meters their account's alarm level, one write per level."""
        if not self:
            return
        Meter = self.env["prepaid.meter"]
        Meter.flush_model(["state", "account_id", "active"])
        self.flush_recordset(["alarm_level"])
        # only the meters out of step: usually none, so nothing to read per meter
        rows = self.env.execute_query(
            SQL(
                "SELECT a.alarm_level, m.id FROM prepaid_meter m"
                " JOIN prepaid_account a ON a.id = m.account_id"
                " WHERE a.id = ANY(%s) AND m.active AND m.state IN %s"
                " AND m.state != a.alarm_level ORDER BY m.id",
                self.ids,
                WALLET_METER_STATES,
            )
        )
        to_write = defaultdict(list)
        for level, meter_id in rows:
            to_write[level].append(meter_id)
        for level, meter_ids in to_write.items():
            Meter.browse(meter_ids).write({"state": level})

    # ------------------------------------------------------------------ actions

    def action_activate_emergency_credit(self):
        for account in self:
            account._lock_for_update()
            account._check_open_for_posting()
            with raise_as_odoo(self.env):
                credit = wallet.activate_emergency_credit(account._get_wallet_credit())
            account.emergency_credit_active = credit.emergency_active
            account.message_post(
                body=self.env._(
                    "Emergency credit of %(amount)s activated.",
                    amount=account._format_amount(credit.emergency_amount),
                )
            )
        return True

    def _action_open_wizard(self, model, name, context=None):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": {"default_account_id": self.id, **(context or {})},
        }

    def action_recharge(self):
        return self._action_open_wizard(
            "prepaid.recharge.wizard",
            self.env._("Recharge"),
            {"default_operation": "recharge"},
        )

    def action_refund(self):
        return self._action_open_wizard(
            "prepaid.recharge.wizard", self.env._("Refund"), {"default_operation": "refund"}
        )

    def action_reverse(self):
        return self._action_open_wizard(
            "prepaid.recharge.wizard", self.env._("Reversal"), {"default_operation": "reversal"}
        )

    def action_add_meter(self):
        return self._action_open_wizard(
            "prepaid.account.open.wizard",
            self.env._("Add a meter"),
            {
                "default_partner_id": self.partner_id.id,
                "default_occupancy_id": self.occupancy_id.id,
            },
        )

    def action_replace_meter(self):
        return self._action_open_wizard(
            "prepaid.meter.replace.wizard", self.env._("Replace a meter")
        )

    def action_close(self):
        return self._action_open_wizard("prepaid.account.close.wizard", self.env._("Close"))

    def action_view_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy.action_prepaid_ledger_line"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_recharges(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy.action_prepaid_recharge"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ transfers

    def _transfer_balance_to(self, target, amount, description=None):
        """Move ``amount`` from this wallet to ``target`` (transfer_out / transfer_in).

        Between two tenants the advance changes hands in the books too: a
        journal entry moves it from one tenant's receivable to the other's.
        """
        self.ensure_one()
        amount = self._to_decimal(amount)
        if amount <= 0:
            raise UserError(self.env._("A transfer needs a positive amount."))
        if target == self:
            raise UserError(self.env._("An account cannot transfer to itself."))
        if target.company_id != self.company_id:
            raise UserError(self.env._("A balance can only move within one company."))
        (self | target)._lock_for_update()
        if amount > self._to_decimal(self.balance):
            raise UserError(
                self.env._(
                    "%(account)s holds %(balance)s: it cannot transfer %(amount)s.",
                    account=self.display_name,
                    balance=self._format_amount(self.balance),
                    amount=self._format_amount(amount),
                )
            )
        move = self.env["account.move"]
        if target.partner_id.commercial_partner_id != self.partner_id.commercial_partner_id:
            move = self._create_transfer_move(target, amount)
        description = description or self.env._(
            "Transfer %(from_account)s -> %(to_account)s",
            from_account=self.name,
            to_account=target.name,
        )
        now = fields.Datetime.now()
        lines = self._post_ledger_lines(
            [
                {
                    "account_id": self.id,
                    "kind": "transfer_out",
                    "amount": -amount,
                    "date": now,
                    "description": description,
                    "move_id": move.id,
                },
                {
                    "account_id": target.id,
                    "kind": "transfer_in",
                    "amount": amount,
                    "date": now,
                    "description": description,
                    "move_id": move.id,
                },
            ]
        )
        if move:
            (self | target)._reconcile_advances()
        return lines

    def _create_transfer_move(self, target, amount):
        self.ensure_one()
        journal = self.env["account.journal"].search(
            [*self.env["account.journal"]._check_company_domain(self.company_id)]
            + [("type", "=", "general")],
            limit=1,
        )
        if not journal:
            raise UserError(self.env._("The company has no miscellaneous journal."))
        label = self.env._(
            "Prepaid balance %(from_account)s -> %(to_account)s",
            from_account=self.name,
            to_account=target.name,
        )
        move = (
            self.env["account.move"]
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "ref": label,
                    "prepaid_account_id": target.id,
                    "line_ids": [
                        Command.create(
                            self._prepare_receivable_line_vals(self.partner_id, amount, label)
                        ),
                        Command.create(
                            self._prepare_receivable_line_vals(target.partner_id, -amount, label)
                        ),
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _prepare_receivable_line_vals(self, partner, balance, label):
        partner = partner.commercial_partner_id
        receivable = partner.with_company(self.company_id).property_account_receivable_id
        return {
            "name": label,
            "partner_id": partner.id,
            "account_id": receivable.id,
            "balance": float(balance),
        }
