from odoo import api, fields, models
from odoo.addons.prepaid_energy.tools.core_errors import raise_as_odoo
from odoo.exceptions import ValidationError

from prepaid_energy_core import fieldbus
from prepaid_energy_core.register_maps import load_builtin

#: what a profile may offer, as commands.check_action names them
CAPABILITIES = ("relay", "relay_state", "credit", "balance", "clock")


class PrepaidMeterProfile(models.Model):
    """A meter model as the head-end talks to it: protocol and register map."""

    _name = "prepaid.meter.profile"
    _description = "Meter protocol profile"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    protocol = fields.Selection(
        list(fieldbus.PROTOCOL_LABELS), required=True, default=fieldbus.PROTOCOL_MODBUS_RTU
    )
    register_map = fields.Selection(
        selection="_selection_register_map",
        default=fieldbus.DEFAULT_REGISTER_MAP,
        help="Modbus register map of the meter model (data/register_maps).",
    )
    protection_trips = fields.Boolean(
        string="Unexplained trips are protection trips",
        default=True,
        help="A relay found open without a command of ours is the meter's own overload or "
        "malicious-load protection: reconnected automatically after the site's delay, a few "
        "times a day. Off: such a relay waits for staff.",
    )
    company_id = fields.Many2one("res.company", index=True, help="Empty: every company.")
    active = fields.Boolean(default=True)
    can_switch = fields.Boolean(string="Relay / valve", compute="_compute_capabilities")
    can_read_relay = fields.Boolean(string="Relay read-back", compute="_compute_capabilities")
    can_push_credit = fields.Boolean(string="Credit push", compute="_compute_capabilities")
    can_read_balance = fields.Boolean(string="Meter balance", compute="_compute_capabilities")
    can_sync_time = fields.Boolean(string="Clock", compute="_compute_capabilities")

    @api.model
    def _selection_register_map(self):
        return [(name, name) for name in fieldbus.register_map_names()]

    @api.depends("protocol", "register_map")
    def _compute_capabilities(self):
        for profile in self:
            offered = profile._capabilities()
            profile.can_switch = "relay" in offered
            profile.can_read_relay = "relay_state" in offered
            profile.can_push_credit = "credit" in offered
            profile.can_read_balance = "balance" in offered
            profile.can_sync_time = "clock" in offered

    def _capabilities(self):
        """What meters of this profile can do (a frozenset of CAPABILITIES)."""
        self.ensure_one()
        if self.protocol == fieldbus.PROTOCOL_DLT645:
            return frozenset(CAPABILITIES)
        if not self.register_map:
            return frozenset()
        regmap = load_builtin(self.register_map)
        offered = set()
        if regmap.relay_control:
            offered.add("relay")
        if regmap.has("relay_state"):
            offered.add("relay_state")
        if regmap.credit is not None and regmap.has("purchase_count"):
            offered.add("credit")
        if regmap.has("balance"):
            offered.add("balance")
        if regmap.clock is not None:
            offered.add("clock")
        return frozenset(offered)

    @api.constrains("protocol", "register_map")
    def _check_register_map(self):
        for profile in self:
            if profile.protocol == fieldbus.PROTOCOL_DLT645:
                continue
            if not profile.register_map:
                raise ValidationError(
                    self.env._("Profile %s: a Modbus profile needs a register map.", profile.name)
                )
            with raise_as_odoo(self.env, lambda p=profile: self.env._("Profile %s", p.name)):
                load_builtin(profile.register_map)

    def _core_profile(self):
        """What a fieldbus.MeterSpec takes as profile."""
        self.ensure_one()
        return None if self.protocol == fieldbus.PROTOCOL_DLT645 else self.register_map
