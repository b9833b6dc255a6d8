"""Excel exports of the prepaid reports, built by the core's XLSX builder.

Rows are read through the ORM as the user (record rules apply: a user sees
their companies' figures only), summed by the core where a report asks for
days, months or years, and written with real number formats, a frozen header
and totals.
"""

import datetime
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from prepaid_energy_core import reports, xlsx
from prepaid_energy_core.vocabulary import LEVEL_LABELS

from ..tools import timezone

REPORTS = [
    ("sales", "Sales (recharges, refunds, reversals)"),
    ("income", "Income by source"),
    ("energy", "Energy by location"),
    ("alarms", "Alarm history"),
    ("readings", "Reading history"),
    ("integrity", "Wallet / accounting integrity"),
    ("audit", "Operator audit"),
]
#: reports summed per day, month or year
BUCKETED = ("sales", "income", "energy")


def _first_of_month():
    return fields.Date.today().replace(day=1)


class PrepaidReportExport(models.TransientModel):
    _name = "prepaid.report.export"
    _inherit = ["prepaid.xlsx.download.mixin"]
    _description = "Export a prepaid report to Excel"

    report = fields.Selection(REPORTS, required=True, default="sales")
    granularity = fields.Selection(
        list(reports.GRANULARITY_LABELS), default=reports.DAY, required=True
    )
    date_from = fields.Date(default=lambda self: _first_of_month())
    date_to = fields.Date(default=fields.Date.context_today)
    company_ids = fields.Many2many(
        "res.company", string="Companies", default=lambda self: self.env.companies
    )
    site_id = fields.Many2one("prepaid.location", domain="[('location_type', '=', 'site')]")
    meter_ids = fields.Many2many("prepaid.meter", string="Meters")

    # ------------------------------------------------------------------ helpers

    def _domain(self, date_field="date", company_field="company_id", site_field="site_id"):
        self.ensure_one()
        domain = [(company_field, "in", self.company_ids.ids or self.env.companies.ids)]
        if self.date_from and date_field:
            domain.append((date_field, ">=", self.date_from))
        if self.date_to and date_field:
            domain.append((date_field, "<=", self.date_to))
        if self.site_id and site_field:
            domain.append((site_field, "=", self.site_id.id))
        return domain

    def _datetime_domain(self, field_name):
        """``date_from``/``date_to`` on a datetime field, as whole days in UTC (the report
        then shows each moment on its site's clock)."""
        self.ensure_one()
        domain = []
        if self.date_from:
            domain.append(
                (field_name, ">=", datetime.datetime.combine(self.date_from, datetime.time.min))
            )
        if self.date_to:
            end = self.date_to + datetime.timedelta(days=1)
            domain.append((field_name, "<", datetime.datetime.combine(end, datetime.time.min)))
        return domain

    @staticmethod
    def _money(value, currency):
        return Decimal(float_repr(value or 0.0, currency.decimal_places))

    @staticmethod
    def _quantity(value, digits=3):
        return Decimal(float_repr(value or 0.0, digits))

    @staticmethod
    def _name_of(record):
        return record.display_name if record else None

    def _selection_labels(self, model, field_name):
        field = self.env[model]._fields[field_name]
        return dict(field._description_selection(self.env))

    def _notes(self, title):
        self.ensure_one()
        notes = [title]
        companies = self.company_ids or self.env.companies
        notes.append(self.env._("Companies: %(names)s", names=", ".join(companies.mapped("name"))))
        if self.date_from or self.date_to:
            notes.append(
                self.env._(
                    "From %(start)s to %(end)s",
                    start=self.date_from or "...",
                    end=self.date_to or "...",
                )
            )
        if self.site_id:
            notes.append(self.env._("Site: %(site)s", site=self.site_id.display_name))
        return notes

    # ------------------------------------------------------------------ the reports

    def _sheets_sales(self):
        records = self.env["prepaid.sales.report"].search(self._domain(), order="date, id")
        labels = self._selection_labels("prepaid.sales.report", "operation")
        rows = []
        for record in records:
            currency = record.currency_id
            rows.append(
                {
                    "date": record.date,
                    "company": record.company_id.name,
                    "site": self._name_of(record.site_id),
                    "channel": self._name_of(record.journal_id),
                    "operator": self._name_of(record.user_id),
                    "operation": labels.get(record.operation),
                    "recharges": self._money(record.recharge_amount, currency),
                    "refunds": self._money(record.refund_amount, currency),
                    "reversals": self._money(record.reversal_amount, currency),
                    "net": self._money(record.net_amount, currency),
                }
            )
        keys = ["company", "site", "channel", "operator"]
        sums = ["recharges", "refunds", "reversals", "net"]
        summary = reports.summarize(rows, keys, sums, granularity=self.granularity)
        columns = (
            xlsx.Column("period", self.env._("Period"), xlsx.DATE),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("site", self.env._("Site")),
            xlsx.Column("channel", self.env._("Channel")),
            xlsx.Column("operator", self.env._("Operator")),
            xlsx.Column("recharges", self.env._("Recharges"), xlsx.MONEY, total=True),
            xlsx.Column("refunds", self.env._("Refunds"), xlsx.MONEY, total=True),
            xlsx.Column("reversals", self.env._("Reversals"), xlsx.MONEY, total=True),
            xlsx.Column("net", self.env._("Net of refunds"), xlsx.MONEY, total=True),
            xlsx.Column("count", self.env._("Documents"), xlsx.INTEGER, total=True),
        )
        detail = (
            xlsx.Column("date", self.env._("Day"), xlsx.DATE),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("site", self.env._("Site")),
            xlsx.Column("channel", self.env._("Channel")),
            xlsx.Column("operator", self.env._("Operator")),
            xlsx.Column("operation", self.env._("Operation")),
            xlsx.Column("recharges", self.env._("Recharges"), xlsx.MONEY, total=True),
            xlsx.Column("refunds", self.env._("Refunds"), xlsx.MONEY, total=True),
            xlsx.Column("reversals", self.env._("Reversals"), xlsx.MONEY, total=True),
            xlsx.Column("net", self.env._("Net of refunds"), xlsx.MONEY, total=True),
        )
        title = self.env._("Sales")
        return [
            xlsx.Sheet(title, columns, tuple(summary), tuple(self._notes(title))),
            xlsx.Sheet(self.env._("Documents"), detail, tuple(rows)),
        ]

    def _sheets_income(self):
        records = self.env["prepaid.income.report"].search(self._domain(), order="date, id")
        sources = self._selection_labels("prepaid.income.report", "source")
        fee_types = self._selection_labels("prepaid.income.report", "fee_type")
        rows = [
            {
                "date": record.date,
                "company": record.company_id.name,
                "site": self._name_of(record.site_id),
                "source": sources.get(record.source),
                "fee_type": fee_types.get(record.fee_type) if record.fee_type else None,
                "scheme": self._name_of(record.scheme_id),
                "amount": self._money(record.amount, record.currency_id),
                "quantity": self._quantity(record.quantity),
            }
            for record in records
        ]
        summary = reports.summarize(
            rows,
            ["company", "site", "source", "fee_type", "scheme"],
            ["amount", "quantity"],
            granularity=self.granularity,
        )
        columns = (
            xlsx.Column("period", self.env._("Period"), xlsx.DATE),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("site", self.env._("Site")),
            xlsx.Column("source", self.env._("Source")),
            xlsx.Column("fee_type", self.env._("Fee type")),
            xlsx.Column("scheme", self.env._("Fee scheme")),
            xlsx.Column("quantity", self.env._("Quantity"), xlsx.QUANTITY, total=True),
            xlsx.Column("amount", self.env._("Amount"), xlsx.MONEY, total=True),
        )
        title = self.env._("Income by source")
        return [xlsx.Sheet(title, columns, tuple(summary), tuple(self._notes(title)))]

    def _sheets_energy(self):
        domain = self._domain()
        if self.meter_ids:
            domain.append(("meter_id", "in", self.meter_ids.ids))
        records = self.env["prepaid.energy.report"].search(domain, order="date, id")
        utilities = self._selection_labels("prepaid.energy.report", "utility")
        bands = ["quantity", "sharp", "peak", "flat", "valley", "untimed"]
        rows = []
        for record in records:
            row = {
                "date": record.date,
                "company": record.company_id.name,
                "site": self._name_of(record.site_id),
                "building": self._name_of(record.building_id),
                "floor": self._name_of(record.floor_id),
                "location": self._name_of(record.location_id),
                "meter": record.meter_id.serial,
                "utility": utilities.get(record.utility),
            }
            row.update({band: self._quantity(record[band]) for band in bands})
            rows.append(row)
        summary = reports.summarize(
            rows,
            ["company", "site", "building", "floor", "location", "meter", "utility"],
            bands,
            granularity=self.granularity,
        )
        columns = (
            xlsx.Column("period", self.env._("Period"), xlsx.DATE),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("site", self.env._("Site")),
            xlsx.Column("building", self.env._("Building")),
            xlsx.Column("floor", self.env._("Floor")),
            xlsx.Column("location", self.env._("Unit or area")),
            xlsx.Column("meter", self.env._("Meter")),
            xlsx.Column("utility", self.env._("Utility")),
            xlsx.Column("quantity", self.env._("Total"), xlsx.QUANTITY, total=True),
            xlsx.Column("sharp", self.env._("Sharp"), xlsx.QUANTITY, total=True),
            xlsx.Column("peak", self.env._("Peak"), xlsx.QUANTITY, total=True),
            xlsx.Column("flat", self.env._("Flat"), xlsx.QUANTITY, total=True),
            xlsx.Column("valley", self.env._("Valley"), xlsx.QUANTITY, total=True),
            xlsx.Column("untimed", self.env._("Untimed"), xlsx.QUANTITY, total=True),
        )
        title = self.env._("Energy by location")
        return [xlsx.Sheet(title, columns, tuple(summary), tuple(self._notes(title)))]

    def _sheets_alarms(self):
        domain = self._domain(date_field=None) + self._datetime_domain("date")
        events = self.env["prepaid.alarm.event"].search(domain, order="date, id")
        levels = dict(LEVEL_LABELS)
        rows = [
            {
                "date": timezone.to_local(event.date, event.account_id._site_zone()),
                "company": event.company_id.name,
                "site": self._name_of(event.site_id),
                "account": event.account_id.name,
                "tenant": self._name_of(event.partner_id),
                "unit": self._name_of(event.unit_id),
                "from": levels.get(event.previous_level),
                "to": levels.get(event.level),
                "balance": self._money(event.balance, event.currency_id),
            }
            for event in events
        ]
        columns = (
            xlsx.Column("date", self.env._("When (site time)"), xlsx.DATETIME),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("site", self.env._("Site")),
            xlsx.Column("account", self.env._("Account")),
            xlsx.Column("tenant", self.env._("Tenant")),
            xlsx.Column("unit", self.env._("Unit")),
            xlsx.Column("from", self.env._("From")),
            xlsx.Column("to", self.env._("To")),
            xlsx.Column("balance", self.env._("Balance"), xlsx.MONEY),
        )
        title = self.env._("Alarm history")
        return [xlsx.Sheet(title, columns, tuple(rows), tuple(self._notes(title)))]

    def _sheets_readings(self):
        # a sheet per meter: the meters are chosen, not every meter of a site by default
        if not self.meter_ids:
            raise UserError(self.env._("Choose the meters whose readings to export."))
        domain = self._domain(date_field=None) + self._datetime_domain("timestamp")
        domain.append(("meter_id", "in", self.meter_ids.ids))
        readings = self.env["prepaid.reading"].search(domain, order="meter_id, timestamp, id")
        states = self._selection_labels("prepaid.reading", "state")
        sources = self._selection_labels("prepaid.reading", "source")
        sheets = []
        for meter, meter_readings in readings.grouped("meter_id").items():
            zone = meter._site_zone()
            rows = [
                {
                    "timestamp": timezone.to_local(reading.timestamp, zone),
                    "total": self._quantity(reading.total, 4),
                    "sharp": self._quantity(reading.sharp, 4) if reading.has_bands else None,
                    "peak": self._quantity(reading.peak, 4) if reading.has_bands else None,
                    "flat": self._quantity(reading.flat, 4) if reading.has_bands else None,
                    "valley": self._quantity(reading.valley, 4) if reading.has_bands else None,
                    "delta": self._quantity(reading.delta, 4),
                    "flags": reading.flags or None,
                    "estimate": reading.is_estimate,
                    "source": sources.get(reading.source),
                    "state": states.get(reading.state),
                }
                for reading in meter_readings
            ]
            columns = (
                xlsx.Column("timestamp", self.env._("Read at (site time)"), xlsx.DATETIME),
                xlsx.Column("total", self.env._("Total register"), xlsx.QUANTITY, digits=4),
                xlsx.Column("sharp", self.env._("Sharp"), xlsx.QUANTITY, digits=4),
                xlsx.Column("peak", self.env._("Peak"), xlsx.QUANTITY, digits=4),
                xlsx.Column("flat", self.env._("Flat"), xlsx.QUANTITY, digits=4),
                xlsx.Column("valley", self.env._("Valley"), xlsx.QUANTITY, digits=4),
                xlsx.Column(
                    "delta", self.env._("Consumption"), xlsx.QUANTITY, total=True, digits=4
                ),
                xlsx.Column("flags", self.env._("Flags")),
                xlsx.Column("estimate", self.env._("Estimate"), xlsx.BOOLEAN),
                xlsx.Column("source", self.env._("Source")),
                xlsx.Column("state", self.env._("State")),
            )
            notes = self._notes(self.env._("Readings of meter %(meter)s", meter=meter.display_name))
            sheets.append(xlsx.Sheet(meter.serial, columns, tuple(rows), tuple(notes)))
        if not sheets:
            raise UserError(self.env._("No reading in this period for these meters."))
        return sheets

    def _sheets_integrity(self):
        companies = self.company_ids or self.env.companies
        Report = self.env["prepaid.integrity.report"]
        Report.invalidate_model()  # numbered per query: never trust a cached row
        records = Report.search([("company_id", "in", companies.ids)])
        names = [
            "advances",
            "invoiced",
            "uninvoiced_charges",
            "unbooked_movements",
            "expected_balance",
            "wallet_balance",
            "difference",
        ]
        rows = []
        for record in records:
            row = {"tenant": record.partner_id.display_name, "company": record.company_id.name}
            row.update({name: self._money(record[name], record.currency_id) for name in names})
            rows.append(row)
        columns = (
            xlsx.Column("tenant", self.env._("Tenant")),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("advances", self.env._("Advances"), xlsx.MONEY, total=True),
            xlsx.Column("invoiced", self.env._("Invoiced"), xlsx.MONEY, total=True),
            xlsx.Column(
                "uninvoiced_charges", self.env._("Not yet invoiced"), xlsx.MONEY, total=True
            ),
            xlsx.Column(
                "unbooked_movements", self.env._("Unbooked movements"), xlsx.MONEY, total=True
            ),
            xlsx.Column("expected_balance", self.env._("Expected balance"), xlsx.MONEY, total=True),
            xlsx.Column("wallet_balance", self.env._("Wallet balance"), xlsx.MONEY, total=True),
            xlsx.Column("difference", self.env._("Difference"), xlsx.MONEY, total=True),
        )
        title = self.env._("Wallet / accounting integrity")
        notes = [
            title,
            self.env._("Companies: %(names)s", names=", ".join(companies.mapped("name"))),
        ]
        return [xlsx.Sheet(title, columns, tuple(rows), tuple(notes))]

    def _sheets_audit(self):
        domain = self._domain(date_field=None, site_field=None) + self._datetime_domain("date")
        entries = self.env["prepaid.audit.log"].search(domain, order="date, id")
        actions = self._selection_labels("prepaid.audit.log", "action")
        rows = [
            {
                "date": timezone.to_local(entry.date, timezone.zone_name(company=entry.company_id)),
                "operator": entry.user_id.name,
                "company": entry.company_id.name,
                "action": actions.get(entry.action),
                "document": entry.record_name or None,
                "description": entry.description or None,
                "changes": entry.changes or None,
                "account": entry.account_id.name or None,
                "amount": self._money(entry.amount, entry.currency_id) if entry.amount else None,
            }
            for entry in entries
        ]
        columns = (
            xlsx.Column("date", self.env._("When"), xlsx.DATETIME),
            xlsx.Column("operator", self.env._("Operator")),
            xlsx.Column("company", self.env._("Company")),
            xlsx.Column("action", self.env._("Action")),
            xlsx.Column("document", self.env._("Document")),
            xlsx.Column("description", self.env._("Description"), width=40),
            xlsx.Column("changes", self.env._("Changes"), width=50),
            xlsx.Column("account", self.env._("Account")),
            xlsx.Column("amount", self.env._("Amount"), xlsx.MONEY),
        )
        title = self.env._("Operator audit")
        return [xlsx.Sheet(title, columns, tuple(rows), tuple(self._notes(title)))]

    # ------------------------------------------------------------------ export

    def _build_file(self):
        """``(file name, XLSX bytes)`` of the chosen report."""
        self.ensure_one()
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise UserError(self.env._("The period ends before it starts."))
        sheets = getattr(self, f"_sheets_{self.report}")()
        suffix = f"-{self.granularity}" if self.report in BUCKETED else ""
        name = f"prepaid-{self.report}{suffix}-{fields.Date.context_today(self)}.xlsx"
        return name, xlsx.build(sheets)

    @api.model
    def action_open(self, report):
        """The export dialog with ``report`` chosen (buttons of the report views)."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Export to Excel"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {"default_report": report},
        }
