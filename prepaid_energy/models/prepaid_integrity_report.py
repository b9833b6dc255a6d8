from odoo import fields, models
from odoo.tools import SQL


class PrepaidIntegrityReport(models.Model):
    """Per tenant and company: does the wallet agree with the books?

    wallet balance = advances - invoiced - not yet invoiced charges + unbooked movements

    Tenants are compared by commercial partner (the company, not its contact).

    * advances: the tenant's receivable credited by prepaid payments, refunds,
      their reversals and balance transfers between tenants (posted entries);
    * invoiced: the tenant's receivable debited by posted prepaid invoices and
      credit notes;
    * not yet invoiced: consumption and fees in the wallet, on no posted invoice;
    * unbooked movements: opening balances, adjustments and transfers that by
      design have no entry (carried from an old meter, or within one tenant).

    Any difference means the wallet and the accounting disagree.
    """

    _name = "prepaid.integrity.report"
    _description = "Prepaid wallet / accounting integrity"
    _auto = False
    _order = "abs_difference desc, partner_id"
    _depends = {
        "prepaid.ledger.line": ["account_id", "amount", "kind", "invoice_id", "move_id"],
        "prepaid.account": ["partner_id", "company_id"],
        "account.move": ["state", "move_type", "prepaid_account_id", "company_id"],
        "account.move.line": ["move_id", "balance", "account_id", "partner_id"],
        "account.account": ["account_type"],
        "res.partner": ["commercial_partner_id"],
    }

    partner_id = fields.Many2one("res.partner", string="Tenant", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    wallet_balance = fields.Monetary(readonly=True, aggregator="sum")
    advances = fields.Monetary(readonly=True, aggregator="sum")
    invoiced = fields.Monetary(readonly=True, aggregator="sum")
    uninvoiced_charges = fields.Monetary(string="Not yet invoiced", readonly=True, aggregator="sum")
    unbooked_movements = fields.Monetary(readonly=True, aggregator="sum")
    expected_balance = fields.Monetary(readonly=True, aggregator="sum")
    difference = fields.Monetary(readonly=True, aggregator="sum")
    abs_difference = fields.Monetary(readonly=True, aggregator="max")

    @property
    def _table_query(self):
        # A query, not a view: the view would need account.move's new column
        # before this module creates it.
        return SQL(
            """
            WITH wallet AS (
                SELECT tenant.commercial_partner_id AS partner_id,
                       account.company_id,
                       SUM(line.amount) AS wallet_balance,
                       SUM(CASE WHEN line.kind IN ('consumption', 'fee')
                                 AND (invoice.id IS NULL OR invoice.state != 'posted')
                                THEN -line.amount ELSE 0 END) AS uninvoiced_charges,
                       SUM(CASE WHEN line.kind IN ('opening', 'adjustment',
                                                   'transfer_in', 'transfer_out')
                                 AND line.move_id IS NULL
                                THEN line.amount ELSE 0 END) AS unbooked_movements
                  FROM prepaid_ledger_line line
                  JOIN prepaid_account account ON account.id = line.account_id
                  JOIN res_partner tenant ON tenant.id = account.partner_id
             LEFT JOIN account_move invoice ON invoice.id = line.invoice_id
              GROUP BY tenant.commercial_partner_id, account.company_id
            ),
            books AS (
                SELECT tenant.commercial_partner_id AS partner_id,
                       move.company_id,
                       SUM(CASE WHEN move.move_type = 'entry'
                                THEN -aml.balance ELSE 0 END) AS advances,
                       SUM(CASE WHEN move.move_type IN ('out_invoice', 'out_refund')
                                THEN aml.balance ELSE 0 END) AS invoiced
                  FROM account_move move
                  JOIN account_move_line aml ON aml.move_id = move.id
                  JOIN account_account acc ON acc.id = aml.account_id
                  JOIN res_partner tenant ON tenant.id = aml.partner_id
                 WHERE move.state = 'posted'
                   AND move.prepaid_account_id IS NOT NULL
                   AND acc.account_type = 'asset_receivable'
              GROUP BY tenant.commercial_partner_id, move.company_id
            ),
            joined AS (
                SELECT COALESCE(wallet.partner_id, books.partner_id) AS partner_id,
                       COALESCE(wallet.company_id, books.company_id) AS company_id,
                       COALESCE(wallet.wallet_balance, 0) AS wallet_balance,
                       COALESCE(books.advances, 0) AS advances,
                       COALESCE(books.invoiced, 0) AS invoiced,
                       COALESCE(wallet.uninvoiced_charges, 0) AS uninvoiced_charges,
                       COALESCE(wallet.unbooked_movements, 0) AS unbooked_movements
                  FROM wallet
             FULL JOIN books ON books.partner_id = wallet.partner_id
                            AND books.company_id = wallet.company_id
            )
            SELECT ROW_NUMBER() OVER (ORDER BY joined.company_id, joined.partner_id) AS id,
                   joined.partner_id,
                   joined.company_id,
                   company.currency_id,
                   joined.wallet_balance,
                   joined.advances,
                   joined.invoiced,
                   joined.uninvoiced_charges,
                   joined.unbooked_movements,
                   joined.advances - joined.invoiced - joined.uninvoiced_charges
                       + joined.unbooked_movements AS expected_balance,
                   joined.wallet_balance - (joined.advances - joined.invoiced
                       - joined.uninvoiced_charges + joined.unbooked_movements) AS difference,
                   ABS(joined.wallet_balance - (joined.advances - joined.invoiced
                       - joined.uninvoiced_charges + joined.unbooked_movements)) AS abs_difference
              FROM joined
              JOIN res_company company ON company.id = joined.company_id
            """
        )
