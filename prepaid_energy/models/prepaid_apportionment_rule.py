from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import apportion
from prepaid_energy_core.vocabulary import UTILITY_LABELS


class PrepaidApportionmentRule(models.Model):
    """How a site's common-area (public) meters are shared among its units."""

    _name = "prepaid.apportionment.rule"
    _description = "Common-area apportionment rule"
    _inherit = ["mail.thread"]
    _order = "site_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    site_id = fields.Many2one(
        "prepaid.location",
        required=True,
        index=True,
        check_company=True,
        domain="[('location_type', '=', 'site')]",
        tracking=True,
    )
    scope_id = fields.Many2one(
        "prepaid.location",
        string="Shared by the units of",
        check_company=True,
        domain="[('location_type', '!=', 'unit'), ('site_id', '=', site_id)]",
        help="The site, a building or a floor: 'Add its units' lists the units below it.",
    )
    company_id = fields.Many2one(related="site_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    utility = fields.Selection(list(UTILITY_LABELS), required=True, default="electricity")
    meter_ids = fields.Many2many(
        "prepaid.meter",
        string="Common-area meters",
        check_company=True,
        domain="[('site_id', '=', site_id), ('account_id', '=', False), ('utility', '=', utility)]",
        help="Meters of the shared areas (corridors, lifts, pumps): their consumption is "
        "the master figure.",
    )
    method = fields.Selection(
        list(apportion.METHOD_LABELS), required=True, default=apportion.AREA, tracking=True
    )
    price_unit = fields.Float(
        string="Price per unit",
        digits="Prepaid Tariff Price",
        tracking=True,
        help="Price of a kWh (or m³) of common-area consumption, tax included.",
    )
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        default=lambda self: self.env.ref(
            "prepaid_energy.product_common_area", raise_if_not_found=False
        ),
        help="What a tenant's share is invoiced as (its taxes included in the price).",
    )
    line_ids = fields.One2many(
        "prepaid.apportionment.rule.line", "rule_id", string="Units", copy=True
    )
    run_ids = fields.One2many("prepaid.apportionment.run", "rule_id", string="Runs")
    run_count = fields.Integer(compute="_compute_run_count")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("price_positive", "CHECK(price_unit >= 0)", "A price cannot be negative."),
    ]

    @api.depends("run_ids")
    def _compute_run_count(self):
        for rule in self:
            rule.run_count = len(rule.run_ids)

    def _check_percentages(self):
        """Fixed percentages must add up to 100 % (checked when a period is computed: the
        lines are typed one by one)."""
        for rule in self.filtered(lambda rule: rule.method == apportion.FIXED_PERCENT):
            total = round(sum(rule.line_ids.mapped("percent")), 4)
            if total != 100:
                raise UserError(
                    self.env._(
                        "The fixed percentages of %(rule)s add up to %(total)s %%, not 100 %%.",
                        rule=rule.name,
                        total=total,
                    )
                )

    def action_add_units(self):
        """List every unit below the scope (the site by default) not listed yet."""
        for rule in self:
            scope = rule.scope_id or rule.site_id
            units = self.env["prepaid.location"].search(
                [("id", "child_of", scope.id), ("location_type", "=", "unit")],
                order="complete_name",
            )
            missing = units - rule.line_ids.unit_id
            rule.line_ids = [Command.create({"unit_id": unit.id}) for unit in missing]
        return True

    def action_new_run(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Apportion"),
            "res_model": "prepaid.apportionment.run",
            "view_mode": "form",
            "target": "current",
            "context": {"default_rule_id": self.id},
        }

    def action_view_runs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Apportionments"),
            "res_model": "prepaid.apportionment.run",
            "view_mode": "list,form",
            "domain": [("rule_id", "=", self.id)],
            "context": {"default_rule_id": self.id},
        }
