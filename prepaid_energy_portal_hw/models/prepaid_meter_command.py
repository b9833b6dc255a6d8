from markupsafe import Markup
from odoo import fields, models

#: the tenant's own switching from the portal
TENANT = "tenant"


class PrepaidMeterCommand(models.Model):
    _inherit = "prepaid.meter.command"

    origin = fields.Selection(selection_add=[(TENANT, "Tenant")], ondelete={TENANT: "set default"})
    open_reason = fields.Selection(
        selection_add=[(TENANT, "The tenant")], ondelete={TENANT: "set null"}
    )

    def _post_switch(self, meter):
        """The tenant's switch, verified, in the meter's chatter (the hardware addon words
        its own origins)."""
        if self.origin != TENANT:
            return super()._post_switch(meter)
        return meter.message_post(
            body=Markup("<p>%s</p>")
            % self.env._(
                "%(command)s verified on the meter (the tenant: %(reason)s).",
                command=dict(self._fields["action"]._description_selection(self.env))[self.action],
                reason=self.reason or "",
            )
        )
