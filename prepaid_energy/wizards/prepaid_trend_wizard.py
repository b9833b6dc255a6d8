"""Month-on-month and year-on-year: sales, income or energy per month against the month
before and the same month a year before (the core's monthly_trend)."""

from decimal import Decimal

from odoo import Command, fields, models
from odoo.tools import float_repr

from prepaid_energy_core import reports, xlsx

#: metric -> (report model, measure, domain, digits: None for the currency's)
METRICS = {
    "sales": ("prepaid.sales.report", "net_amount", [], None),
    "income": ("prepaid.income.report", "amount", [], None),
    "electricity": ("prepaid.energy.report", "quantity", [("utility", "=", "electricity")], 3),
    "water": ("prepaid.energy.report", "quantity", [("utility", "=", "water")], 3),
}
METRIC_LABELS = [
    ("sales", "Sales, net of refunds"),
    ("income", "Income"),
    ("electricity", "Electricity (kWh)"),
    ("water", "Water (m³)"),
]


class PrepaidTrendWizard(models.TransientModel):
    _name = "prepaid.trend.wizard"
    _inherit = ["prepaid.xlsx.download.mixin"]
    _description = "Month-on-month and year-on-year"

    metric = fields.Selection(METRIC_LABELS, required=True, default="sales")
    month_from = fields.Date(
        string="From month",
        required=True,
        default=lambda self: reports.add_months(fields.Date.today().replace(day=1), -11),
    )
    month_to = fields.Date(
        string="To month", required=True, default=lambda self: fields.Date.today().replace(day=1)
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    site_id = fields.Many2one("prepaid.location", domain="[('location_type', '=', 'site')]")
    line_ids = fields.One2many("prepaid.trend.line", "wizard_id", string="Months")

    def _series(self):
        """``{first day of a month: Decimal}`` of the metric, from a year before the range."""
        self.ensure_one()
        model, measure, extra, digits = METRICS[self.metric]
        digits = self.currency_id.decimal_places if digits is None else digits
        first = reports.add_months(self.month_from.replace(day=1), -12)
        end = reports.add_months(self.month_to.replace(day=1), 1)
        domain = [
            ("company_id", "=", self.company_id.id),
            ("date", ">=", first),
            ("date", "<", end),
            *extra,
        ]
        if self.site_id:
            domain.append(("site_id", "=", self.site_id.id))
        groups = self.env[model]._read_group(domain, ["date:month"], [f"{measure}:sum"])
        return {
            month: Decimal(float_repr(total or 0.0, digits)) for month, total in groups if month
        }

    def _trend_rows(self):
        self.ensure_one()
        return reports.monthly_trend(self._series(), self.month_from, self.month_to)

    def action_compute(self):
        for wizard in self:
            wizard.line_ids = [Command.clear()] + [
                Command.create(
                    {
                        "month": row.month,
                        "value": float(row.value),
                        "previous_month": float(row.previous_month),
                        "mom_change": float(row.mom_change),
                        "mom_percent": float(row.mom_percent)
                        if row.mom_percent is not None
                        else 0.0,
                        "mom_defined": row.mom_percent is not None,
                        "previous_year": float(row.previous_year),
                        "yoy_change": float(row.yoy_change),
                        "yoy_percent": float(row.yoy_percent)
                        if row.yoy_percent is not None
                        else 0.0,
                        "yoy_defined": row.yoy_percent is not None,
                    }
                )
                for row in wizard._trend_rows()
            ]
        return self._reopen()

    def _reopen(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Trends"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _build_file(self):
        self.ensure_one()
        kind = xlsx.MONEY if METRICS[self.metric][3] is None else xlsx.QUANTITY
        rows = [
            {
                "month": row.month,
                "value": row.value,
                "previous_month": row.previous_month,
                "mom_change": row.mom_change,
                "mom_percent": row.mom_percent,
                "previous_year": row.previous_year,
                "yoy_change": row.yoy_change,
                "yoy_percent": row.yoy_percent,
            }
            for row in self._trend_rows()
        ]
        columns = (
            xlsx.Column("month", self.env._("Month"), xlsx.DATE),
            xlsx.Column("value", self.env._("This month"), kind, total=True),
            xlsx.Column("previous_month", self.env._("Month before"), kind),
            xlsx.Column("mom_change", self.env._("Change"), kind),
            xlsx.Column("mom_percent", self.env._("Change (%)"), xlsx.PERCENT),
            xlsx.Column("previous_year", self.env._("A year before"), kind),
            xlsx.Column("yoy_change", self.env._("Change on the year"), kind),
            xlsx.Column("yoy_percent", self.env._("Change on the year (%)"), xlsx.PERCENT),
        )
        label = dict(METRIC_LABELS)[self.metric]
        notes = [
            self.env._("Trends: %(metric)s", metric=label),
            self.env._("Company: %(company)s", company=self.company_id.name),
        ]
        if self.site_id:
            notes.append(self.env._("Site: %(site)s", site=self.site_id.display_name))
        name = f"prepaid-trend-{self.metric}.xlsx"
        return name, xlsx.build_workbook(self.env._("Trends"), columns, rows, notes=notes)


class PrepaidTrendLine(models.TransientModel):
    _name = "prepaid.trend.line"
    _description = "A month of a trend"
    _order = "month"

    wizard_id = fields.Many2one("prepaid.trend.wizard", required=True, ondelete="cascade")
    month = fields.Date()
    value = fields.Float(string="This month", digits=(16, 3))
    previous_month = fields.Float(string="Month before", digits=(16, 3))
    mom_change = fields.Float(string="Change", digits=(16, 3))
    mom_percent = fields.Float(string="Change (%)", digits=(7, 2))
    mom_defined = fields.Boolean()
    previous_year = fields.Float(string="A year before", digits=(16, 3))
    yoy_change = fields.Float(string="Change on the year", digits=(16, 3))
    yoy_percent = fields.Float(string="Change on the year (%)", digits=(7, 2))
    yoy_defined = fields.Boolean()
