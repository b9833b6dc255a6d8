from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResPartner(models.Model):
    _inherit = "res.partner"

    prepaid_main_contact_id = fields.Many2one(
        "res.partner",
        string="Main portal contact",
        domain="[('id', 'child_of', id), ('id', '!=', id)]",
        help="The tenant's contact who manages its notification settings in the portal and "
        "receives its notifications unless others are chosen. Empty: the tenant itself.",
    )
    prepaid_portal_binding_ids = fields.One2many(
        "prepaid.portal.binding", "tenant_id", string="Portal link requests"
    )

    @api.constrains("prepaid_main_contact_id")
    def _check_prepaid_main_contact(self):
        for partner in self.filtered("prepaid_main_contact_id"):
            contact = partner.prepaid_main_contact_id
            if contact.commercial_partner_id != partner.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "The main portal contact of %(tenant)s must be one of its contacts, "
                        "not %(contact)s.",
                        tenant=partner.display_name,
                        contact=contact.display_name,
                    )
                )

    def write(self, vals):
        result = super().write(vals)
        if {"parent_id", "is_company"}.intersection(vals) and self._prepaid_moves_logins():
            # the record rules of portal users hold their commercial partner, and Odoo
            # caches a user's rule domains: a login moved to (or from) a tenant must see
            # that tenant's records at once, not after the next restart
            self.env.registry.clear_cache()
        return result

    def _prepaid_moves_logins(self):
        return bool(
            self.sudo()
            .with_context(active_test=False)
            .search_count([("id", "child_of", self.ids), ("user_ids", "!=", False)], limit=1)
        )

    def _prepaid_tenant(self):
        """The tenant these partners act for: their commercial partner."""
        return self.commercial_partner_id

    def _prepaid_may_manage(self, contact):
        """Whether ``contact`` manages this tenant's portal settings: its main contact,
        or any of its contacts while it has none."""
        self.ensure_one()
        if contact.commercial_partner_id != self:
            return False
        return not self.prepaid_main_contact_id or self.prepaid_main_contact_id == contact
