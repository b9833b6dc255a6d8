from odoo import fields, models


class PrepaidApportionmentRuleLine(models.Model):
    _name = "prepaid.apportionment.rule.line"
    _description = "Unit sharing a common area"
    _order = "rule_id, unit_id"

    rule_id = fields.Many2one(
        "prepaid.apportionment.rule", required=True, index=True, ondelete="cascade"
    )
    unit_id = fields.Many2one(
        "prepaid.location",
        required=True,
        domain="[('location_type', '=', 'unit')]",
        ondelete="restrict",
    )
    company_id = fields.Many2one(related="rule_id.company_id", store=True)
    area = fields.Float(related="unit_id.area", string="Area (m²)")
    percent = fields.Float(
        string="Fixed %", digits=(7, 4), help="Only with the fixed percentages method."
    )

    _sql_constraints = [
        ("unit_unique", "UNIQUE(rule_id, unit_id)", "A unit is listed once per rule."),
        ("percent_range", "CHECK(percent >= 0 AND percent <= 100)", "A percentage is 0 to 100."),
    ]
