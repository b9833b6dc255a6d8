from odoo import fields, models
from odoo.tools import SQL

from .prepaid_recharge import OPERATIONS

#: the site's clock, else the company's (its partner's), never the user's (tools/timezone.py)
LOCAL_ZONE = "COALESCE(site.tz, company_partner.tz, 'UTC')"


class PrepaidSalesReport(models.Model):
    """Booked recharges, refunds and reversals, by day of the site's calendar.

    One row per done document (what awaits approval, drafts and rejected
    requests are left out); ``net`` is what it did to the wallets: a recharge
    adds, a refund takes, a reversal undoes its target. A reversal is counted
    on the channel of the document it reverses.
    """

    _name = "prepaid.sales.report"
    _description = "Prepaid sales"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "prepaid.recharge": [
            "date",
            "operation",
            "state",
            "amount",
            "wallet_amount",
            "account_id",
            "journal_id",
            "user_id",
            "reversed_recharge_id",
            "company_id",
        ],
        "prepaid.account": ["site_id", "partner_id"],
        "prepaid.location": ["tz"],
    }

    recharge_id = fields.Many2one("prepaid.recharge", string="Document", readonly=True)
    date = fields.Date(readonly=True, help="Day on the site's clock.")
    operation = fields.Selection(OPERATIONS, readonly=True)
    account_id = fields.Many2one("prepaid.account", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Tenant", readonly=True)
    site_id = fields.Many2one("prepaid.location", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    journal_id = fields.Many2one("account.journal", string="Channel", readonly=True)
    user_id = fields.Many2one("res.users", string="Operator", readonly=True)
    recharge_amount = fields.Monetary(string="Recharges", readonly=True, aggregator="sum")
    refund_amount = fields.Monetary(string="Refunds", readonly=True, aggregator="sum")
    reversal_amount = fields.Monetary(string="Reversals", readonly=True, aggregator="sum")
    net_amount = fields.Monetary(string="Net", readonly=True, aggregator="sum")
    document_count = fields.Integer(string="Documents", readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            f"""
            SELECT recharge.id AS id,
                   recharge.id AS recharge_id,
                   (recharge.date AT TIME ZONE 'UTC' AT TIME ZONE {LOCAL_ZONE})::date AS date,
                   recharge.operation,
                   recharge.account_id,
                   tenant.commercial_partner_id AS partner_id,
                   account.site_id,
                   recharge.company_id,
                   company.currency_id,
                   COALESCE(recharge.journal_id, target.journal_id) AS journal_id,
                   recharge.user_id,
                   CASE WHEN recharge.operation = 'recharge'
                        THEN recharge.amount ELSE 0 END AS recharge_amount,
                   CASE WHEN recharge.operation = 'refund'
                        THEN recharge.amount ELSE 0 END AS refund_amount,
                   CASE WHEN recharge.operation = 'reversal'
                        THEN recharge.wallet_amount ELSE 0 END AS reversal_amount,
                   recharge.wallet_amount AS net_amount,
                   1 AS document_count
              FROM prepaid_recharge recharge
              JOIN prepaid_account account ON account.id = recharge.account_id
              JOIN res_partner tenant ON tenant.id = account.partner_id
              JOIN res_company company ON company.id = recharge.company_id
              JOIN res_partner company_partner ON company_partner.id = company.partner_id
         LEFT JOIN prepaid_location site ON site.id = account.site_id
         LEFT JOIN prepaid_recharge target ON target.id = recharge.reversed_recharge_id
             WHERE recharge.state = 'done'
            """
        )
