from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_prepaid_tenant = fields.Boolean(
        string="Tenant", help="Rents or has rented a unit with prepaid energy."
    )
    is_protected_tenant = fields.Boolean(
        string="Protected tenant",
        tracking=True,
        help="Never disconnected automatically (hospital, care home, life support...).",
    )
    prepaid_occupancy_ids = fields.One2many("prepaid.occupancy", "partner_id", string="Occupancies")
    prepaid_occupancy_count = fields.Integer(compute="_compute_prepaid_counts")
    prepaid_meter_count = fields.Integer(compute="_compute_prepaid_counts")
    prepaid_account_count = fields.Integer(compute="_compute_prepaid_counts")

    def _compute_prepaid_counts(self):
        tenants = self.filtered("id")
        counts = {}
        for model in ("prepaid.occupancy", "prepaid.account"):
            groups = self.env[model]._read_group(
                [("partner_id", "in", tenants.ids)], ["partner_id"], ["__count"]
            )
            counts[model] = {partner.id: count for partner, count in groups}
        meters = self.env["prepaid.meter"].search([("account_id.partner_id", "in", tenants.ids)])
        counts["prepaid.meter"] = {}
        for meter in meters:
            partner_id = meter.account_id.partner_id.id
            counts["prepaid.meter"][partner_id] = counts["prepaid.meter"].get(partner_id, 0) + 1
        for partner in self:
            partner.prepaid_occupancy_count = counts["prepaid.occupancy"].get(partner.id, 0)
            partner.prepaid_account_count = counts["prepaid.account"].get(partner.id, 0)
            partner.prepaid_meter_count = counts["prepaid.meter"].get(partner.id, 0)

    def _prepaid_action(self, xmlid, domain, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        action["context"] = context or {}
        return action

    def action_view_prepaid_occupancies(self):
        return self._prepaid_action(
            "prepaid_energy.action_prepaid_occupancy",
            [("partner_id", "=", self.id)],
            {"default_partner_id": self.id},
        )

    def action_view_prepaid_meters(self):
        return self._prepaid_action(
            "prepaid_energy.action_prepaid_meter", [("account_id.partner_id", "=", self.id)]
        )

    def action_view_prepaid_accounts(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepaid accounts"),
            "res_model": "prepaid.account",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", self.id)],
            "context": {"default_partner_id": self.id},
        }
