from odoo import models


class PrepaidMeter(models.Model):
    """Billing and disconnection settings of a meter go to the operator audit."""

    _name = "prepaid.meter"
    _inherit = ["prepaid.meter", "prepaid.audit.mixin"]
    _audit_action = "setting_change"
    _audit_fields = ("multiplier", "tariff_id", "billing_side", "keep_power", "relay_capable")
    # meters are imported by the thousand: their creation is the import's record
    _audit_on_create = False

    def _audit_account(self):
        return self.account_id
