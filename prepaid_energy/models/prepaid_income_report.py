from odoo import fields, models
from odoo.tools import SQL

from prepaid_energy_core import fees

from .prepaid_sales_report import LOCAL_ZONE

SOURCES = [
    ("electricity", "Electricity"),
    ("water", "Water"),
    ("fee", "Fees"),
    ("common_area", "Common areas"),
]


class PrepaidIncomeReport(models.Model):
    """What tenants were charged, by source: metered electricity and water, each fee,
    common-area shares; by day of the site's calendar (tax included, as charged).

    Consumption counts when it was metered (its charge's start), a fee for the
    first day of its period, a common-area share for its period's first day;
    whether the wallet paid it or an invoice bills it does not matter here.
    """

    _name = "prepaid.income.report"
    _description = "Prepaid income by source"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "prepaid.charge": ["date_start", "amount", "quantity", "utility", "account_id"],
        "prepaid.fee.charge": ["date_from", "amount", "scheme_id", "account_id"],
        "prepaid.apportionment.share": [
            "amount",
            "quantity",
            "ledger_line_id",
            "run_id",
            "period_start",
            "account_id",
        ],
        "prepaid.account": ["site_id", "unit_id", "partner_id"],
    }

    date = fields.Date(readonly=True)
    source = fields.Selection(SOURCES, readonly=True)
    fee_type = fields.Selection(list(fees.FEE_TYPE_LABELS), readonly=True)
    scheme_id = fields.Many2one("prepaid.fee.scheme", string="Fee scheme", readonly=True)
    account_id = fields.Many2one("prepaid.account", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Tenant", readonly=True)
    site_id = fields.Many2one("prepaid.location", readonly=True)
    unit_id = fields.Many2one("prepaid.location", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True, aggregator="sum")
    quantity = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            f"""
            WITH income AS (
                SELECT 'charge' AS origin, charge.id AS origin_id,
                       charge.account_id,
                       (charge.date_start AT TIME ZONE 'UTC' AT TIME ZONE {LOCAL_ZONE})::date
                           AS date,
                       charge.utility AS source, NULL AS fee_type, NULL::int AS scheme_id,
                       charge.amount, charge.quantity
                  FROM prepaid_charge charge
                  JOIN prepaid_account account ON account.id = charge.account_id
                  JOIN res_company company ON company.id = account.company_id
                  JOIN res_partner company_partner ON company_partner.id = company.partner_id
             LEFT JOIN prepaid_location site ON site.id = account.site_id
                UNION ALL
                SELECT 'fee', fee.id, fee.account_id, fee.date_from, 'fee', fee.fee_type,
                       fee.scheme_id, fee.amount, 0
                  FROM prepaid_fee_charge fee
                 WHERE fee.amount != 0
                UNION ALL
                SELECT 'share', share.id, share.account_id, share.period_start, 'common_area',
                       NULL, NULL, share.amount, share.quantity
                  FROM prepaid_apportionment_share share
                 WHERE share.ledger_line_id IS NOT NULL
            )
            -- a stable id: the origin's id, and which origin it is
            SELECT income.origin_id * 3 + CASE income.origin WHEN 'charge' THEN 0
                                                          WHEN 'fee' THEN 1 ELSE 2 END AS id,
                   income.date, income.source, income.fee_type, income.scheme_id,
                   income.account_id, tenant.commercial_partner_id AS partner_id,
                   account.site_id, account.unit_id, account.company_id,
                   company.currency_id, income.amount, income.quantity
              FROM income
              JOIN prepaid_account account ON account.id = income.account_id
              JOIN res_partner tenant ON tenant.id = account.partner_id
              JOIN res_company company ON company.id = account.company_id
            """
        )
