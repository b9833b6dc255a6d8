"""The landlord's master bill for a period, against what the site's sub-meters counted.

The utility's bill is the landlord's vendor bill (created from here, or an
existing one linked); its kWh is compared with the sum of every meter of
the site and utility (tenants' and common areas') over the same period:
loss kWh and %, flagged above the site's threshold (bypass or theft
suspicion) and when the sub-meters count more than the master. The loss
may be apportioned among the units with a common-area rule.
"""

from decimal import Decimal

from markupsafe import Markup
from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from prepaid_energy_core import losses
from prepaid_energy_core.vocabulary import UTILITY_LABELS

from ..tools.core_errors import raise_as_odoo
from ..tools.metering import local_span, metered_quantities


class PrepaidMasterBill(models.Model):
    _name = "prepaid.master.bill"
    _description = "Master bill of a site (landlord's utility bill)"
    _inherit = ["mail.thread"]
    _order = "period_start desc, site_id, id desc"
    _check_company_auto = True

    name = fields.Char(string="Bill reference", required=True, tracking=True)
    site_id = fields.Many2one(
        "prepaid.location",
        required=True,
        index=True,
        check_company=True,
        domain="[('location_type', '=', 'site')]",
    )
    company_id = fields.Many2one(related="site_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    utility = fields.Selection(list(UTILITY_LABELS), required=True, default="electricity")
    period_start = fields.Date(string="From", required=True)
    period_end = fields.Date(string="To", required=True, help="Inclusive, on the site's clock.")
    supplier_id = fields.Many2one(
        "res.partner", string="Utility company", help="Who bills the landlord."
    )
    quantity = fields.Float(
        string="Master quantity",
        digits=(16, 3),
        required=True,
        tracking=True,
        help="kWh (or m³) on the utility's bill for the master meter.",
    )
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        readonly=False,
        tracking=True,
        help="What the bill costs the landlord; the vendor bill's total once linked.",
    )
    vendor_bill_id = fields.Many2one(
        "account.move",
        string="Vendor bill",
        check_company=True,
        domain="[('move_type', '=', 'in_invoice')]",
        copy=False,
        tracking=True,
    )
    metered_quantity = fields.Float(
        string="Sub-meters", digits=(16, 3), readonly=True, help="Sum of the site's meters."
    )
    loss_quantity = fields.Float(string="Loss", digits=(16, 3), readonly=True)
    loss_percent = fields.Float(string="Loss (%)", digits=(7, 2), readonly=True, aggregator="avg")
    loss_cost = fields.Monetary(readonly=True, help="The loss at the bill's average price.")
    loss_threshold = fields.Float(
        string="Threshold (%)", digits=(5, 2), readonly=True, aggregator=None
    )
    loss_status = fields.Selection(list(losses.STATUS_LABELS), readonly=True, tracking=True)
    is_flagged = fields.Boolean(string="Flagged", readonly=True, index=True)
    meter_count = fields.Integer(readonly=True, aggregator=None)
    run_ids = fields.One2many(
        "prepaid.apportionment.run", "master_bill_id", string="Apportionments"
    )

    _sql_constraints = [
        ("period_in_order", "CHECK(period_end >= period_start)", "A period cannot end first."),
        ("quantity_positive", "CHECK(quantity > 0)", "The master quantity must be positive."),
    ]

    @api.depends("vendor_bill_id.amount_total")
    def _compute_amount(self):
        for bill in self:
            if bill.vendor_bill_id:
                bill.amount = bill.vendor_bill_id.amount_total

    # ------------------------------------------------------------------ the loss

    def _span(self):
        self.ensure_one()
        return local_span(self.site_id, self.company_id, self.period_start, self.period_end)

    def _site_meters(self):
        """Every meter of the site and utility, archived ones too (a meter replaced
        during the period counted its part)."""
        self.ensure_one()
        return (
            self.env["prepaid.meter"]
            .with_context(active_test=False)
            .search([("site_id", "=", self.site_id.id), ("utility", "=", self.utility)])
        )

    def _compute_loss_figures(self):
        """Sum the sub-meters over the period and compare with the master quantity."""
        for bill in self:
            meters = bill._site_meters()
            start, end = bill._span()
            metered = sum(metered_quantities(self.env, meters.ids, start, end).values(), Decimal(0))
            digits = bill.currency_id.decimal_places
            with raise_as_odoo(
                self.env, where=lambda bill=bill: self.env._("Master bill %(bill)s", bill=bill.name)
            ):
                loss = losses.compute(Decimal(float_repr(bill.quantity, 3)), metered)
                cost = losses.cost(
                    loss.loss, loss.master, Decimal(float_repr(bill.amount, digits)), digits
                )
            threshold = bill.site_id.loss_alert_percent
            status = loss.status(Decimal(float_repr(threshold, 2)))
            was_flagged = bill.is_flagged
            bill.write(
                {
                    "metered_quantity": float(loss.metered),
                    "loss_quantity": float(loss.loss),
                    "loss_percent": float(loss.percent),
                    "loss_cost": float(cost),
                    "loss_threshold": threshold,
                    "loss_status": status,
                    "is_flagged": status != losses.OK,
                    "meter_count": len(meters),
                }
            )
            if bill.is_flagged and not was_flagged:
                bill._notify_flag()

    def _notify_flag(self):
        self.ensure_one()
        if self.loss_status == losses.HIGH:
            body = self.env._(
                "Loss of %(percent)s %% (%(loss)s) is above the site's %(threshold)s %%: check "
                "for a bypass or theft.",
                percent=float_repr(self.loss_percent, 2),
                loss=float_repr(self.loss_quantity, 3),
                threshold=float_repr(self.loss_threshold, 2),
            )
        else:
            body = self.env._(
                "The sub-meters counted %(metered)s, more than the master bill's %(master)s: "
                "check the bill, the multipliers and meters counted twice.",
                metered=float_repr(self.metered_quantity, 3),
                master=float_repr(self.quantity, 3),
            )
        self.message_post(body=Markup("<p>%s</p>") % body, subtype_xmlid="mail.mt_note")

    def action_compute_loss(self):
        self._compute_loss_figures()
        return True

    # ------------------------------------------------------------------ accounting

    def action_create_vendor_bill(self):
        """A draft vendor bill of the master quantity, for the accountant to check and post."""
        self.ensure_one()
        if self.vendor_bill_id:
            raise UserError(self.env._("This master bill has a vendor bill already."))
        if not self.supplier_id:
            raise UserError(self.env._("Choose the utility that bills the landlord first."))
        product = self.env.ref("prepaid_energy.product_master_energy", raise_if_not_found=False)
        price = self.amount / self.quantity if self.quantity else 0.0
        move = (
            self.env["account.move"]
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.supplier_id.id,
                    "ref": self.name,
                    "invoice_date": self.period_end,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id if product else False,
                                "name": self.env._(
                                    "%(site)s: %(start)s - %(end)s",
                                    site=self.site_id.display_name,
                                    start=self.period_start,
                                    end=self.period_end,
                                ),
                                "quantity": self.quantity,
                                "price_unit": price,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        self.vendor_bill_id = move
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": move.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_apportion_loss(self):
        """A common-area apportionment of this bill's loss (computed, not posted)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Apportion the loss"),
            "res_model": "prepaid.apportionment.run",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_source": "loss",
                "default_master_bill_id": self.id,
                "default_period_start": self.period_start,
                "default_period_end": self.period_end,
            },
        }
