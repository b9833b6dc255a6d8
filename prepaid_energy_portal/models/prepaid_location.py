from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from prepaid_energy_core import errors as core_errors
from prepaid_energy_core import selfservice

#: the portal's site settings, changed by prepaid managers only (as the others are)
PORTAL_SITE_FIELDS = {
    "portal_topup_presets",
    "portal_topup_min",
    "portal_topup_max",
    "portal_switch_allowed",
    "portal_switch_limit",
}


class PrepaidLocation(models.Model):
    _inherit = "prepaid.location"

    portal_topup_presets = fields.Char(
        string="Top-up presets",
        default="50, 100, 200, 500",
        help="Amounts offered on the portal's top-up page, separated by commas.",
    )
    portal_topup_min = fields.Monetary(
        string="Minimum top-up", default=10.0, help="Smallest online top-up (0: none)."
    )
    portal_topup_max = fields.Monetary(
        string="Maximum top-up", default=2000.0, help="Largest online top-up (0: none)."
    )
    portal_switch_allowed = fields.Boolean(
        string="Tenants switch their own supply",
        help="Dormitories and the like: tenants switch their supply off and back on from "
        "the portal (meters with a remotely controlled relay or valve). Never overrides an "
        "arrears trip, keep-power or a staff trip.",
    )
    portal_switch_limit = fields.Integer(
        string="Switches per hour",
        default=4,
        help="How many times a tenant may switch one meter in an hour.",
    )

    _sql_constraints = [
        (
            "portal_topup_bounds",
            "CHECK(portal_topup_min >= 0 AND portal_topup_max >= 0 AND "
            "(portal_topup_max = 0 OR portal_topup_min <= portal_topup_max))",
            "Top-up bounds cannot be negative, and the minimum cannot exceed the maximum.",
        ),
        (
            "portal_switch_limit_positive",
            "CHECK(portal_switch_limit > 0)",
            "A tenant must be allowed at least one switch an hour.",
        ),
    ]

    @api.constrains("portal_topup_presets", "portal_topup_min", "portal_topup_max")
    def _check_portal_topup_presets(self):
        for site in self.filtered(lambda location: location.location_type == "site"):
            try:
                presets = selfservice.parse_presets(site.portal_topup_presets)
            except core_errors.ValidationError:
                raise ValidationError(
                    self.env._(
                        "Top-up presets of %(site)s must be positive amounts separated by "
                        "commas, e.g. 50, 100, 200.",
                        site=site.display_name,
                    )
                ) from None
            for amount in presets:
                refusal = selfservice.check_topup(
                    amount,
                    minimum=site._to_portal_decimal(site.portal_topup_min),
                    maximum=site._to_portal_decimal(site.portal_topup_max),
                )
                if refusal:
                    raise ValidationError(
                        self.env._(
                            "Top-up preset %(amount)s of %(site)s is outside the minimum and "
                            "maximum top-up.",
                            amount=amount,
                            site=site.display_name,
                        )
                    )

    def _to_portal_decimal(self, amount):
        return self.env["prepaid.account"]._to_decimal(amount, self.currency_id)

    def _check_site_settings_access(self, fnames):
        """The portal's site settings are a manager's decision, as the others are."""
        changed = PORTAL_SITE_FIELDS.intersection(fnames)
        if changed and not (
            self.env.su or self.env.user.has_group("prepaid_energy.group_prepaid_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only a prepaid energy manager may change site settings (%s).",
                    ", ".join(sorted(changed)),
                )
            )
        return super()._check_site_settings_access(fnames)
