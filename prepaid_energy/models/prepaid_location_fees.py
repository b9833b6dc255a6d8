"""Site settings of fees, common areas, losses and cash desks; a unit's building and floor.

Added to prepaid.location by inheritance; like the other site settings they are
a prepaid manager's to change, and every change goes to the operator audit.
"""

from odoo import api, fields, models

from prepaid_energy_core import apportion

from .prepaid_location import SITE_SETTING_FIELDS

#: the site settings this file adds: a manager's, like the others (one set decides)
FEE_SITE_SETTING_FIELDS = {
    "apportion_vacant_policy",
    "loss_alert_percent",
    "require_cashier_shift",
    "trip_on_overdue_fees",
    "overdue_fee_grace_days",
}
SITE_SETTING_FIELDS.update(FEE_SITE_SETTING_FIELDS)


class PrepaidLocation(models.Model):
    _name = "prepaid.location"
    _inherit = ["prepaid.location", "prepaid.audit.mixin"]
    _audit_action = "setting_change"
    _audit_fields = tuple(sorted(SITE_SETTING_FIELDS))

    apportion_vacant_policy = fields.Selection(
        list(apportion.VACANT_POLICY_LABELS),
        string="Vacant units",
        default=apportion.SKIP,
        required=True,
        help="In a common-area apportionment: skip vacant units (the occupied units share "
        "everything) or keep their share and charge it to the landlord.",
    )
    loss_alert_percent = fields.Float(
        string="Loss alert above (%)",
        default=5.0,
        digits=(5, 2),
        help="A master bill whose loss (master kWh minus the sub-meters) is above this "
        "percentage is flagged: bypass or theft suspicion.",
    )
    require_cashier_shift = fields.Boolean(
        string="Cash needs an open shift",
        help="Cashiers must open a shift before they take or pay out cash on this site's "
        "accounts; other channels are counted in the shift when one is open.",
    )
    trip_on_overdue_fees = fields.Boolean(
        string="Overdue fees trip the meter",
        help="Accounts with fee invoices overdue (after the grace days) are flagged for "
        "disconnection; the hardware addon's policy trips their meters.",
    )
    overdue_fee_grace_days = fields.Integer(
        string="Grace days for fees",
        default=0,
        help="Days after a fee invoice's due date before it counts as overdue.",
    )
    building_id = fields.Many2one(
        "prepaid.location",
        compute="_compute_building_floor",
        recursive=True,
        store=True,
        index="btree_not_null",
        help="The building this location is in (itself for a building).",
    )
    floor_id = fields.Many2one(
        "prepaid.location",
        compute="_compute_building_floor",
        recursive=True,
        store=True,
        index="btree_not_null",
        help="The floor this location is on (itself for a floor).",
    )

    _sql_constraints = [
        (
            "loss_alert_percent_range",
            "CHECK(loss_alert_percent >= 0 AND loss_alert_percent <= 100)",
            "The loss alert is a percentage between 0 and 100.",
        ),
        (
            "overdue_fee_grace_days_positive",
            "CHECK(overdue_fee_grace_days >= 0)",
            "Grace days cannot be negative.",
        ),
    ]

    @api.depends("location_type", "parent_id.building_id", "parent_id.floor_id")
    def _compute_building_floor(self):
        for location in self:
            parent = location.parent_id
            location.building_id = (
                location if location.location_type == "building" else parent.building_id
            )
            location.floor_id = location if location.location_type == "floor" else parent.floor_id

    def _audited_fnames(self, fnames):
        # settings are the site's: a unit or building carries none worth a line
        if self and all(location.location_type != "site" for location in self):
            return []
        return super()._audited_fnames(fnames)

    def _audit_log_records(self, description, changes=None):
        sites = self.filtered(lambda location: location.location_type == "site")
        return super(PrepaidLocation, sites)._audit_log_records(description, changes)
