from odoo import api, fields, models


class PrepaidAccountMeterLine(models.TransientModel):
    """A meter and its register reading in the open and close wizards."""

    _name = "prepaid.account.meter.line"
    _description = "Meter reading in an account wizard"

    open_wizard_id = fields.Many2one("prepaid.account.open.wizard", ondelete="cascade")
    close_wizard_id = fields.Many2one("prepaid.account.close.wizard", ondelete="cascade")
    meter_id = fields.Many2one("prepaid.meter", required=True)
    last_total = fields.Float(related="meter_id.last_total", string="Last reading")
    last_reading_date = fields.Datetime(related="meter_id.last_reading_date", string="Read on")
    reading_total = fields.Float(
        string="Register reading",
        digits=(16, 4),
        required=True,
        help="Start reading when opening, final reading when closing (the total register).",
    )

    @api.onchange("meter_id")
    def _onchange_meter_id(self):
        for line in self:
            if line.meter_id and not line.reading_total:
                line.reading_total = line.meter_id.last_total
