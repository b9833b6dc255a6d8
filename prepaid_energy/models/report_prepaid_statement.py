"""Data of the monthly tenant statement (reports/prepaid_statement_report.xml).

A month of the account's site calendar: the balance it opened with, every
ledger line booked in it (recharges, refunds, consumption, fees, common-area
shares...), the balance it closed with, the metered consumption per meter,
the fee charges and the invoices of the month.
"""

import datetime
from collections import defaultdict

from odoo import api, fields, models

from ..tools import timezone


def _month_start(value):
    day = fields.Date.to_date(value) if value else fields.Date.today().replace(day=1)
    return day.replace(day=1)


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


class ReportPrepaidStatement(models.AbstractModel):
    _name = "report.prepaid_energy.report_prepaid_statement"
    _description = "Monthly statement of a prepaid account"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        month = _month_start(data.get("month") or self.env.context.get("prepaid_statement_month"))
        accounts = self.env["prepaid.account"].browse(docids)
        accounts.check_access("read")
        return {
            "doc_ids": docids,
            "doc_model": "prepaid.account",
            "docs": accounts,
            "month": month,
            "statements": {account.id: self._statement(account, month) for account in accounts},
        }

    @api.model
    def _statement(self, account, month):
        zone = account._site_zone()
        start = timezone.local_midnight(month, zone)
        end = timezone.local_midnight(_next_month(month), zone)
        # read as the system once the account may be read: cashiers see statements,
        # not the invoices behind them
        account_sudo = account.sudo()
        Line = self.env["prepaid.ledger.line"].sudo()
        before = Line._read_group(
            [("account_id", "=", account.id), ("date", "<", start)], [], ["amount:sum"]
        )[0][0]
        lines = Line.search(
            [("account_id", "=", account.id), ("date", ">=", start), ("date", "<", end)],
            order="date, id",
        )
        kinds = dict(Line._fields["kind"]._description_selection(self.env))
        meters = defaultdict(lambda: {"quantity": 0.0, "amount": 0.0})
        charges = (
            self.env["prepaid.charge"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("date_start", ">=", start),
                    ("date_start", "<", end),
                ]
            )
        )
        for charge in charges:
            entry = meters[charge.meter_id]
            entry["quantity"] += charge.quantity
            entry["amount"] += charge.amount
        fees = (
            self.env["prepaid.fee.charge"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("date_from", ">=", month),
                    ("date_from", "<", _next_month(month)),
                ],
                order="date_from, id",
            )
        )
        shares = (
            self.env["prepaid.apportionment.share"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("ledger_line_id", "!=", False),
                    ("period_start", ">=", month),
                    ("period_start", "<", _next_month(month)),
                ]
            )
        )
        invoices = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    "|",
                    ("prepaid_account_id", "=", account.id),
                    ("prepaid_fee_account_id", "=", account.id),
                    ("state", "=", "posted"),
                    ("invoice_date", ">=", month),
                    ("invoice_date", "<", _next_month(month)),
                ],
                order="invoice_date, id",
            )
        )
        opening = before or 0.0
        return {
            "zone": zone,
            "month_end": _next_month(month) - datetime.timedelta(days=1),
            "opening": opening,
            "closing": opening + sum(lines.mapped("amount")),
            "credits": sum(line.amount for line in lines if line.amount > 0),
            "debits": -sum(line.amount for line in lines if line.amount < 0),
            "lines": [
                {
                    "date": timezone.to_local(line.date, zone),
                    "kind": kinds.get(line.kind, line.kind),
                    "description": line.description or "",
                    "amount": line.amount,
                    "balance": line.balance_after,
                }
                for line in lines
            ],
            "meters": [
                {"meter": meter.display_name, "utility": meter.utility, **values}
                for meter, values in sorted(meters.items(), key=lambda item: item[0].serial or "")
            ],
            "fees": fees,
            "shares": shares,
            "invoices": invoices,
            "tenant": account_sudo.partner_id,
            "unit": account_sudo.unit_id,
        }
