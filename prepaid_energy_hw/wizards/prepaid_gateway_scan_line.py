from odoo import api, fields, models


class PrepaidGatewayScanLine(models.TransientModel):
    _name = "prepaid.gateway.scan.line"
    _description = "Address found on a bus"

    wizard_id = fields.Many2one("prepaid.gateway.scan.wizard", required=True, ondelete="cascade")
    address = fields.Char(required=True, readonly=True)
    meter_id = fields.Many2one("prepaid.meter", string="Known meter", readonly=True)

    @api.depends("address")
    def _compute_display_name(self):
        for line in self:
            line.display_name = line.address
