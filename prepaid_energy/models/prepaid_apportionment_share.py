from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr


class PrepaidApportionmentShare(models.Model):
    """A unit's share of one apportionment: what the statement shows and the wallet pays."""

    _name = "prepaid.apportionment.share"
    _description = "Common-area share of a unit"
    _order = "run_id, unit_id"

    run_id = fields.Many2one(
        "prepaid.apportionment.run", required=True, index=True, ondelete="cascade"
    )
    rule_id = fields.Many2one(related="run_id.rule_id", store=True)
    site_id = fields.Many2one(related="run_id.site_id", store=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="run_id.currency_id")
    period_start = fields.Date(related="run_id.period_start", store=True)
    period_end = fields.Date(related="run_id.period_end", store=True)
    method = fields.Selection(related="run_id.method")
    unit_id = fields.Many2one("prepaid.location", required=True, ondelete="restrict")
    account_id = fields.Many2one("prepaid.account", index="btree_not_null", ondelete="restrict")
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant", store=True)
    weight = fields.Float(digits=(16, 4), aggregator=None, help="Area, consumption or %.")
    percent = fields.Float(string="Share (%)", digits=(7, 4), aggregator="sum")
    quantity = fields.Float(digits=(16, 3), aggregator="sum")
    amount = fields.Monetary(aggregator="sum")
    occupied = fields.Boolean()
    landlord = fields.Boolean(string="Landlord pays", help="A vacant unit's share.")
    skipped = fields.Boolean(help="A vacant unit left out of the split.")
    ledger_line_id = fields.Many2one(
        "prepaid.ledger.line", string="Wallet line", ondelete="restrict", index="btree_not_null"
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_unposted_only(self):
        if self.filtered("ledger_line_id"):
            raise UserError(self.env._("A posted share cannot be deleted."))

    def _label(self):
        self.ensure_one()
        run = self.run_id
        return self.env._(
            "%(rule)s %(start)s - %(end)s: %(percent)s %% of %(master)s",
            rule=run.rule_id.name,
            start=run.period_start,
            end=run.period_end,
            percent=float_repr(self.percent, 2),
            master=float_repr(run.master_amount, run.currency_id.decimal_places),
        )
