import re

from odoo import fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.exceptions import UserError

from prepaid_energy_core import fieldbus

#: a scan asks each candidate once; this keeps a scan of a whole Modbus bus short
SCAN_TIMEOUT = 0.2


class PrepaidGatewayScanWizard(models.TransientModel):
    """Which addresses answer on a bus: Modbus unit ids in a range, or listed DL/T 645
    addresses."""

    _name = "prepaid.gateway.scan.wizard"
    _description = "Scan a meter bus"

    gateway_id = fields.Many2one("prepaid.gateway", required=True, readonly=True)
    protocol = fields.Selection(related="gateway_id.protocol")
    first_unit = fields.Integer(string="From unit", default=1)
    last_unit = fields.Integer(string="To unit", default=32)
    addresses = fields.Text(
        help="DL/T 645: the 12-digit addresses to try, one per line or separated by commas."
    )
    line_ids = fields.One2many("prepaid.gateway.scan.line", "wizard_id", string="Found")
    scanned = fields.Boolean(readonly=True)

    def _candidates(self):
        self.ensure_one()
        if self.protocol == fieldbus.PROTOCOL_DLT645:
            candidates = [a for a in re.split(r"[\s,;]+", self.addresses or "") if a]
            if not candidates:
                raise UserError(self.env._("List the DL/T 645 addresses to try."))
            return candidates
        if not 1 <= self.first_unit <= self.last_unit <= 247:
            raise UserError(self.env._("Modbus unit ids run from 1 to 247, first to last."))
        return [str(unit) for unit in range(self.first_unit, self.last_unit + 1)]

    def action_scan(self):
        self.ensure_one()
        with raise_as_odoo(self.env):
            candidates = [fieldbus.check_address(self.protocol, c) for c in self._candidates()]
        found = self.gateway_id._scan(candidates, SCAN_TIMEOUT)
        known = {
            meter.bus_address: meter
            for meter in self.env["prepaid.meter"].search(
                [("gateway_id", "=", self.gateway_id.id), ("bus_address", "in", found)]
            )
        }
        self.line_ids = [fields.Command.clear()] + [
            fields.Command.create(
                {"address": address, "meter_id": known[address].id if address in known else False}
            )
            for address in found
        ]
        self.scanned = True
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Scan bus %s", self.gateway_id.name),
        }
