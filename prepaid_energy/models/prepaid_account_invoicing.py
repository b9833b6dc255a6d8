"""Period invoices of the prepaid wallets.

What the wallet deducted (consumption and fees) is invoiced per site-local
invoicing period, one invoice per account or, where the site says so, per
tenant (all their accounts of the site). Every invoice of a run is prepared
with the ``_prepare_*`` methods and created in one ``create`` per company;
each is then checked, rounded to the wallet's figures, linked to its ledger
lines and charges, posted and reconciled with the tenant's advances.

Cut-off: a ledger line belongs to the period containing its ``date_start``
(pricing books one consumption line per period, so a line never spans a
boundary); each invoice is dated inside its period.
"""

import datetime
import logging
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError

from prepaid_energy_core import periods
from prepaid_energy_core.vocabulary import FEE, INVOICED_KINDS

from ..tools import timezone

_logger = logging.getLogger(__name__)

#: accounts invoiced per cron batch
INVOICE_BATCH_SIZE = 50
#: invoice line sequences: billed lines from here on, the rounding lines last
FIRST_LINE_SEQUENCE = 100
ROUNDING_LINE_SEQUENCE = 1_000_000
ONE_DAY = datetime.timedelta(days=1)


class PrepaidAccount(models.Model):
    _inherit = "prepaid.account"

    # ------------------------------------------------------------------ periods

    def _invoicing_period(self):
        self.ensure_one()
        return self.site_id.invoice_period or periods.MONTHLY

    def _local_today(self):
        """Today on the account's clock."""
        return timezone.local_date(fields.Datetime.now(), self._site_zone())

    def _get_invoice_period_end(self, today=None):
        """First day of the current invoicing period: everything before it is billable.

        ``today``: a date; default today on the account's clock.
        """
        self.ensure_one()
        return periods.period_start(today or self._local_today(), self._invoicing_period())

    def _period_start_boundary(self, day):
        """Midnight starting ``day`` on the account's clock, as naive UTC."""
        self.ensure_one()
        return timezone.local_midnight(day, self._site_zone())

    def _invoicing_group_key(self):
        """Accounts with one key share an invoice: the account alone, or every account
        of the tenant on a site that invoices per tenant."""
        self.ensure_one()
        if self.site_id.invoice_grouping == "tenant":
            tenant = self.partner_id.commercial_partner_id
            return ("tenant", tenant.id, self.company_id.id, self.site_id.id)
        return ("account", self.id)

    # ------------------------------------------------------------------ what is billable

    def _uninvoiced_lines(self, boundary=None):
        """Consumption and fee lines of these accounts on no posted or draft invoice,
        metered before ``boundary`` (naive UTC) when given."""
        domain = [
            ("account_id", "in", self.ids),
            ("kind", "in", INVOICED_KINDS),
            ("amount", "!=", 0),
            "|",
            ("invoice_id", "=", False),
            ("invoice_id.state", "=", "cancel"),
        ]
        if boundary:
            domain.append(("date_start", "<", boundary))
        return self.env["prepaid.ledger.line"].search(domain, order="date_start, id")

    @api.model
    def _accounts_due_for_invoicing(self):
        """Accounts with billable lines from a period that is over (on each one's clock)."""
        groups = self.env["prepaid.ledger.line"]._read_group(
            [
                ("kind", "in", INVOICED_KINDS),
                ("amount", "!=", 0),
                ("account_id.invoice_error", "=", False),
                "|",
                ("invoice_id", "=", False),
                ("invoice_id.state", "=", "cancel"),
            ],
            ["account_id"],
            ["date_start:min"],
        )
        due = self.browse()
        for account, first_start in groups:
            if first_start < account._period_start_boundary(account._get_invoice_period_end()):
                due |= account
        return due.sorted("id")  # oldest accounts first, whatever the list order

    # ------------------------------------------------------------------ the invoicing paths

    def _invoice_periods(self, until=None, last_day=None):
        """Invoice these accounts' lines metered before ``until`` (a date: its midnight on
        each account's clock; None: everything, as at closing), one invoice per period
        and per account or tenant.

        ``last_day``: the last day invoiced, which dates the invoice of a period not
        over yet; default the day before ``until``, or today on the account's clock.

        :return: the posted invoices
        """
        return self._create_period_invoices(self._prepare_period_batches(until, last_day))

    def _invoice_closed_periods(self):
        """Invoice every period that is over, on each account's clock (the cron's job)."""
        batches = []
        by_period_end = defaultdict(lambda: self.browse())
        for account in self:
            by_period_end[account._get_invoice_period_end()] |= account
        for until, accounts in by_period_end.items():
            batches += accounts._prepare_period_batches(until)
        return self._create_period_invoices(batches)

    @api.model
    def _cron_invoice_periods(self, batch_size=INVOICE_BATCH_SIZE):
        """Invoice every account's closed periods, a batch of accounts per call.

        The batch is invoiced at once; if that fails, each invoicing group (an
        account, or a tenant's accounts) is tried alone so that one broken group
        (a tax not included in the price, a missing journal) does not stop the
        others. A failed group gets the reason in ``invoice_error`` and a chatter
        message, and is skipped until invoiced from the wizard.
        """
        due = self._accounts_due_for_invoicing()
        batch = due[:batch_size]
        # a tenant's accounts are invoiced together, never split across two calls
        keys = {account._invoicing_group_key() for account in batch}
        batch |= due[batch_size:].filtered(lambda account: account._invoicing_group_key() in keys)
        invoices, failed = batch._invoice_closed_periods_isolated()
        remaining = len(due) - len(batch)
        _logger.info(
            "Prepaid invoicing: %d invoice(s) for %d account(s), %d failed, %d left",
            len(invoices),
            len(batch),
            len(failed),
            remaining,
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=remaining)
        return batch

    def _invoice_closed_periods_isolated(self):
        """``_invoice_closed_periods``, falling back to one group at a time on an error.

        :return: (invoices, accounts that failed)
        """
        invoices, failed = self.env["account.move"], self.browse()
        try:
            with self.env.cr.savepoint():
                return self._invoice_closed_periods(), failed
        except (UserError, ValidationError):
            _logger.info("Prepaid invoicing: a batch failed, invoicing its groups one by one")
        for accounts in self.grouped(lambda account: account._invoicing_group_key()).values():
            try:
                with self.env.cr.savepoint():
                    invoices |= accounts._invoice_closed_periods()
            except (UserError, ValidationError) as error:
                accounts._record_invoice_error(error)
                failed |= accounts
        return invoices, failed

    def _record_invoice_error(self, error):
        message = error.args[0] if error.args else str(error)
        names = ", ".join(self.mapped("name"))
        _logger.warning("Prepaid invoicing failed for %s: %s", names, message)
        for account in self:
            account.invoice_error = message
            account.message_post(
                body=self.env._("Automatic invoicing failed: %(error)s", error=message)
            )

    # ------------------------------------------------------------------ preparing

    def _prepare_period_batches(self, until=None, last_day=None):
        """The invoices to create: ``[(accounts, ledger lines, invoice date)]``.

        Lines are grouped by invoicing group (``_invoicing_group_key``) and by
        the site-local period their ``date_start`` falls in.
        """
        Line = self.env["prepaid.ledger.line"]
        lines_by_key = defaultdict(list)
        accounts_by_key = defaultdict(set)
        invoice_dates = {}
        lines_by_account = self._uninvoiced_lines().grouped("account_id")
        for account in self:
            zone, period = account._site_zone(), account._invoicing_period()
            boundary = timezone.local_midnight(until, zone) if until else None
            last = last_day or (until - ONE_DAY if until else account._local_today())
            group = account._invoicing_group_key()
            for line in lines_by_account.get(account, Line):
                if boundary and line.date_start >= boundary:
                    continue
                start = periods.period_start(timezone.local_date(line.date_start, zone), period)
                key = (group, start)
                lines_by_key[key].append(line.id)
                accounts_by_key[key].add(account.id)
                invoice_dates[key] = periods.invoice_date(start, period, last)
        return [
            (
                self.browse(sorted(accounts_by_key[key])),
                Line.browse(lines_by_key[key]),
                invoice_dates[key],
            )
            for key in sorted(lines_by_key, key=lambda key: (key[1], key[0]))
        ]

    def _invoicing_journal(self):
        self.ensure_one()
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.company_id),
                ("type", "=", "sale"),
            ],
            limit=1,
        )
        if not journal:
            raise UserError(
                self.env._(
                    "The company %(company)s has no sales journal to invoice from: add one in "
                    "Invoicing > Configuration > Accounting > Journals.",
                    company=self.company_id.name,
                )
            )
        return journal

    def _prepare_invoice_vals(self, lines, line_groups, invoice_date):
        """The invoice of ``lines`` for these accounts (one, or a tenant's accounts).

        ``line_groups``: ``_prepare_invoice_line_groups(lines)``; the invoice lines
        get their sequences in that order, from ``FIRST_LINE_SEQUENCE``.
        """
        main = self.sorted("id")[:1]
        partner = self.partner_id
        if len(partner) > 1:
            partner = partner.commercial_partner_id[:1]
        first, last = timezone.local_days(
            min(lines.mapped("date_start")), max(lines.mapped("date")), main._site_zone()
        )
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "journal_id": main._invoicing_journal().id,
            "invoice_date": invoice_date,
            "currency_id": main.currency_id.id,
            "prepaid_account_id": main.id,
            "ref": self.env._(
                "%(account)s: %(start)s - %(end)s",
                account=", ".join(self.sorted("name").mapped("name")),
                start=first,
                end=last,
            ),
            "invoice_line_ids": [
                Command.create({**line_vals, "sequence": sequence})
                for sequence, (line_vals, _charges) in enumerate(
                    line_groups, start=FIRST_LINE_SEQUENCE
                )
            ],
        }

    def _prepare_invoice_line_groups(self, lines):
        """``[(invoice line vals, charges)]`` for ``lines``, account by account: one line
        per meter, product, band, tier and price of the priced charges, and one per
        ledger line booked without charges (a fee)."""
        Charge = self.env["prepaid.charge"]
        result = []
        lines_by_account = lines.grouped("account_id")
        for account in self.sorted("name"):
            groups = defaultdict(lambda: Charge)
            for line in lines_by_account.get(account, lines.browse()):
                if not line.charge_ids:
                    result.append((account._prepare_invoice_line_vals_from_ledger(line), Charge))
                    continue
                for charge in line.charge_ids:
                    key = (
                        charge.meter_id,
                        charge.product_id,
                        charge.band,
                        charge.tier,
                        charge.unit_price,
                    )
                    groups[key] |= charge
            for charges in groups.values():
                result.append((account._prepare_invoice_line_vals(charges), charges))
        return result

    def _prepare_invoice_line_vals(self, charges):
        """Invoice line of priced charges that share meter, product, band, tier and price."""
        self.ensure_one()
        charge = charges[0]
        product = charge.product_id or self._product_for_meter(charge.meter_id)
        parts = [charge.meter_id.display_name or ""]
        if charge.band:
            parts.append(self._selection_label(charge, "band"))
        if charge.tier:
            parts.append(self.env._("tier %(tier)s", tier=charge.tier))
        first, last = timezone.local_days(
            min(charges.mapped("date_start")),
            max(charges.mapped("date_end")),
            self._site_zone(),
        )
        parts.append(f"{first} - {last}")
        return {
            "product_id": product.id,
            "name": f"{product.name}: " + " / ".join(part for part in parts if part),
            "quantity": sum(charges.mapped("quantity")),
            "price_unit": charge.unit_price,
            "prepaid_account_id": self.id,
        }

    def _prepare_invoice_line_vals_from_ledger(self, line):
        """Invoice line of a ledger line without charges (a fee, or a consumption booked bare)."""
        self.ensure_one()
        product = line.product_id or self._product_for_meter(line.meter_id, line.kind)
        return {
            "product_id": product.id,
            "name": line.description or product.name,
            "quantity": 1.0,
            "price_unit": -line.amount,
            "prepaid_account_id": self.id,
        }

    def _prepare_rounding_line_vals(self, difference, income_account, sequence):
        self.ensure_one()
        return {
            "name": self.env._("Rounding to the wallet's charges"),
            "sequence": sequence,
            "account_id": income_account.id,
            "quantity": 1.0,
            "price_unit": float(difference),
            "tax_ids": [Command.clear()],
            "prepaid_account_id": self.id,
        }

    def _product_for_meter(self, meter, kind="consumption"):
        site = self.site_id
        if kind == FEE:
            product = self.env.ref("prepaid_energy.product_fee", raise_if_not_found=False)
        elif meter and meter.utility == "water":
            product = site.water_product_id or self.env.ref(
                "prepaid_energy.product_water", raise_if_not_found=False
            )
        else:
            product = site.electricity_product_id or self.env.ref(
                "prepaid_energy.product_electricity", raise_if_not_found=False
            )
        if not product:
            raise UserError(self.env._("No product to invoice %(kind)s with.", kind=kind))
        return product

    @api.model
    def _selection_label(self, record, field_name):
        field = record._fields[field_name]
        value = record[field_name]
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        return str(value)

    # ------------------------------------------------------------------ creating

    @api.model
    def _create_period_invoices(self, batches):
        """Create the invoices of ``batches`` (``_prepare_period_batches``) in one
        ``create`` per company, then round, link, post and reconcile them.

        :return: the posted invoices, in the order of ``batches``
        """
        Move = self.env["account.move"]
        prepared_by_company = defaultdict(list)
        for accounts, lines, invoice_date in batches:
            line_groups = accounts._prepare_invoice_line_groups(lines)
            vals = accounts._prepare_invoice_vals(lines, line_groups, invoice_date)
            prepared_by_company[accounts.company_id].append((accounts, lines, line_groups, vals))
        invoices = Move
        for company, prepared in prepared_by_company.items():
            created = Move.with_company(company).create([vals for *_rest, vals in prepared])
            created._check_prepaid_taxes_included()
            for invoice, (accounts, lines, line_groups, _vals) in zip(created, prepared):
                accounts._add_rounding_lines(invoice, lines)
                accounts._link_invoiced(invoice, lines, line_groups)
            invoices |= created
        if not invoices:
            return invoices
        invoices.action_post()
        accounts = self.browse().union(*(accounts for accounts, _lines, _date in batches))
        accounts._reconcile_advances()
        accounts.filtered("invoice_error").invoice_error = False
        return invoices

    def _add_rounding_lines(self, invoice, lines):
        """Make each account's part of ``invoice`` equal what its wallet paid.

        Invoice lines round quantity x price line by line; the ledger rounded
        the charges its own way (with a carried remainder). The difference, a
        few cents, goes on one rounding line per account; a tax rounded on the
        whole invoice could still leave a cent, which goes on the first account's.
        """
        currency = invoice.currency_id
        income_account = invoice.invoice_line_ids[:1].account_id
        lines_by_account = lines.grouped("account_id")
        billed_by_account = defaultdict(float)
        for invoice_line in invoice.invoice_line_ids:
            billed_by_account[invoice_line.prepaid_account_id] += invoice_line.price_total
        commands = []
        expected_total = 0
        for number, account in enumerate(self.sorted("name")):
            expected = -sum(
                account._to_decimal(line.amount) for line in lines_by_account.get(account, [])
            )
            expected_total += expected
            billed = account._to_decimal(currency.round(billed_by_account[account]))
            if expected != billed:
                commands.append(
                    Command.create(
                        account._prepare_rounding_line_vals(
                            expected - billed, income_account, ROUNDING_LINE_SEQUENCE + number
                        )
                    )
                )
        if commands:
            invoice.write({"invoice_line_ids": commands})
        main = self.sorted("id")[:1]
        residual = expected_total - main._to_decimal(currency.round(invoice.amount_total))
        if residual:
            invoice.write(
                {
                    "invoice_line_ids": [
                        Command.create(
                            main._prepare_rounding_line_vals(
                                residual, income_account, ROUNDING_LINE_SEQUENCE + len(self)
                            )
                        )
                    ]
                }
            )

    def _link_invoiced(self, invoice, lines, line_groups):
        """Mark the ledger lines and charges that ``invoice`` bills."""
        lines.write({"invoice_id": invoice.id})
        # each group's line carries its sequence: link the charges it bills
        invoice_line_by_sequence = {line.sequence: line for line in invoice.invoice_line_ids}
        for sequence, (_vals, charges) in enumerate(line_groups, start=FIRST_LINE_SEQUENCE):
            if charges:
                charges.write({"invoice_line_id": invoice_line_by_sequence[sequence].id})

    # ------------------------------------------------------------------ reconciliation

    def _reconcile_advances(self):
        """Reconcile the tenants' open prepaid receivables: advances against invoices."""
        tenants = {
            (account.partner_id.commercial_partner_id, account.company_id) for account in self
        }
        for partner, company in tenants:
            open_lines = self.env["account.move.line"].search(
                [
                    ("move_id.prepaid_account_id", "!=", False),
                    ("partner_id", "child_of", partner.id),
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                    ("account_id.account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                ]
            )
            for lines in open_lines.grouped("account_id").values():
                debits = lines.filtered(lambda line: line.amount_residual > 0)
                credits = lines.filtered(lambda line: line.amount_residual < 0)
                if debits and credits:
                    (debits | credits).reconcile()
