from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from prepaid_energy_core import selfservice

#: the preference field switching each event on or off
EVENT_FIELDS = {event: f"event_{event}" for event in selfservice.EVENTS}


class PrepaidNotificationPreference(models.Model):
    """How a tenant wants to hear of its wallets and meters: one record per tenant."""

    _name = "prepaid.notification.preference"
    _description = "Tenant notification preferences"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Tenant", required=True, index=True, ondelete="cascade"
    )
    email_enabled = fields.Boolean(string="By e-mail", default=True)
    sms_enabled = fields.Boolean(string="By SMS", default=True)
    event_alarm1 = fields.Boolean(string="Low balance (alarm 1)", default=True)
    event_alarm2 = fields.Boolean(string="Very low balance (alarm 2)", default=True)
    event_arrears = fields.Boolean(string="Arrears", default=True)
    event_tripped = fields.Boolean(string="Supply cut off", default=True)
    event_restored = fields.Boolean(string="Supply restored", default=True)
    event_recharge = fields.Boolean(string="Recharge received", default=True)
    event_paid_but_off = fields.Boolean(string="Paid but still off", default=True)
    quiet_hour_start = fields.Float(
        string="Quiet from", default=22.0, help="Nothing is sent from this hour (site's clock)..."
    )
    quiet_hour_end = fields.Float(
        string="Quiet until",
        default=7.0,
        help="...until this hour; what happens meanwhile is sent then. Equal hours: no quiet "
        "hours. A recharge's confirmation is never held back.",
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "prepaid_notification_preference_recipient_rel",
        "preference_id",
        "partner_id",
        string="Send to",
        help="Contacts of the tenant who receive the notifications. Empty: its main portal "
        "contact, else the tenant itself.",
    )

    _sql_constraints = [
        ("partner_unique", "UNIQUE(partner_id)", "A tenant has one set of preferences."),
        (
            "quiet_hours_range",
            "CHECK(quiet_hour_start >= 0 AND quiet_hour_start < 24 "
            "AND quiet_hour_end >= 0 AND quiet_hour_end < 24)",
            "Quiet hours are hours of the day, from 0 to 24.",
        ),
    ]

    @api.constrains("partner_id", "recipient_ids")
    def _check_recipients(self):
        for preference in self:
            tenant = preference.partner_id
            if tenant != tenant.commercial_partner_id:
                raise ValidationError(
                    self.env._("Preferences belong to the tenant, not a contact.")
                )
            strangers = preference.recipient_ids.filtered(
                lambda partner, tenant=tenant: partner.commercial_partner_id != tenant
            )
            if strangers:
                raise ValidationError(
                    self.env._(
                        "Notifications of %(tenant)s go to its own contacts only, not to "
                        "%(others)s.",
                        tenant=tenant.display_name,
                        others=", ".join(strangers.mapped("display_name")),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_portal_manager(
            self.env["res.partner"].browse(vals.get("partner_id") for vals in vals_list)
        )
        return super().create(vals_list)

    def write(self, vals):
        self._check_portal_manager(self.partner_id)
        if "partner_id" in vals:
            self._check_portal_manager(self.env["res.partner"].browse(vals["partner_id"]))
        return super().write(vals)

    def _check_portal_manager(self, tenants):
        """A portal user changes the preferences of their own tenant only, and only as
        its main contact (or as any of its contacts while it has none)."""
        user = self.env.user
        if self.env.su or not user.share:
            return
        for tenant in tenants.sudo():
            if not tenant._prepaid_may_manage(user.partner_id):
                raise AccessError(
                    self.env._(
                        "Only the main contact of %(tenant)s changes its notifications.",
                        tenant=tenant.display_name,
                    )
                )

    @api.model
    def _for_tenant(self, tenant):
        """The tenant's preferences, or the defaults (a new, unsaved record)."""
        tenant = tenant.commercial_partner_id
        preference = self.search([("partner_id", "=", tenant.id)], limit=1)
        return preference or self.new({"partner_id": tenant.id})

    def _wants(self, event):
        self.ensure_one()
        return bool(self[EVENT_FIELDS[event]])

    def _recipients(self):
        """Who is told: the chosen contacts, else the main contact, else the tenant."""
        self.ensure_one()
        tenant = self.partner_id
        return self.recipient_ids or tenant.prepaid_main_contact_id or tenant

    def _quiet_hours(self):
        """``(start, end)`` as times of day."""
        self.ensure_one()
        return (
            selfservice.hours_to_time(self.quiet_hour_start),
            selfservice.hours_to_time(self.quiet_hour_end),
        )
