from odoo import fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import selfservice
from prepaid_energy_core.vocabulary import LEVELS, TRIPPED

#: supply states the portal shows for a meter's relay or valve
SUPPLY_STATES = [("on", "On"), ("off", "Off"), ("unknown", "Unknown")]


class PrepaidMeter(models.Model):
    _inherit = "prepaid.meter"

    portal_power = fields.Selection(
        [(selfservice.POWER_ON, "On"), (selfservice.POWER_OFF, "Off")],
        string="Last known supply",
        readonly=True,
        copy=False,
        help="What the tenant was last told about (trip, restore): told once per change.",
    )
    portal_trip_count = fields.Integer(
        readonly=True, copy=False, help="Trips the tenant was told of; numbers each episode."
    )

    def write(self, vals):
        watched = {"state", "paid_but_off"}.intersection(vals)
        if not watched:
            return super().write(vals)
        before = {meter.id: meter._portal_watch_values() for meter in self}
        result = super().write(vals)
        self._portal_after_state_write(before)
        return result

    def _portal_watch_values(self):
        self.ensure_one()
        return (self.state, self["paid_but_off"] if "paid_but_off" in self._fields else False)

    def _portal_after_state_write(self, before):
        """Tell the tenant of a trip, a restore, or "paid but still off", once per change."""
        Notification = self.env["prepaid.notification"].sudo()
        for meter in self:
            old_state, old_paid_off = before[meter.id]
            account = meter.account_id
            if meter.state != old_state:
                event, power = selfservice.power_event(meter.portal_power, meter.state)
                values = {}
                if power != meter.portal_power:
                    values["portal_power"] = power or False
                if event == TRIPPED:
                    values["portal_trip_count"] = meter.portal_trip_count + 1
                if values:
                    # neither state nor paid_but_off: no recursion
                    meter.sudo().write(values)
                if event and account and not meter._portal_tenant_asked(event):
                    Notification._notify(
                        account,
                        event,
                        f"{event}:{meter.id}:{meter.portal_trip_count}",
                        meter=meter,
                    )
            paid_off = meter._portal_watch_values()[1]
            if paid_off and not old_paid_off and account:
                Notification._notify(
                    account,
                    selfservice.PAID_BUT_OFF,
                    f"{selfservice.PAID_BUT_OFF}:{meter.id}:{meter.portal_trip_count}",
                    meter=meter,
                )

    def _portal_tenant_asked(self, event):
        """Hook: this trip or restore is the tenant's own remote switch (no news for
        them). The hardware glue knows; without it tenants do not switch."""
        return False

    # ------------------------------------------------------------------ what the tenant sees

    def _portal_supply_state(self):
        """The supply as the platform knows it: "on", "off" or "unknown".

        Without the hardware addon the platform only knows what it decided: a tripped
        meter is off, a meter in a wallet state is on, an offline one unknown. The
        hardware glue overrides this with the relay or valve as last read.
        """
        self.ensure_one()
        if self.state == TRIPPED:
            return "off"
        if self.state in LEVELS:
            return "on"
        return "unknown"

    def _portal_supply_label(self):
        self.ensure_one()
        state = self._portal_supply_state()
        if self.utility == "water":
            labels = {
                "on": self.env._("Valve open"),
                "off": self.env._("Valve closed"),
                "unknown": self.env._("Valve state unknown"),
            }
        else:
            labels = {
                "on": self.env._("Power on"),
                "off": self.env._("Power off"),
                "unknown": self.env._("Power state unknown"),
            }
        return labels[state]

    # ------------------------------------------------------------------ tenant's remote switch

    def _portal_can_switch(self):
        """Whether the tenant may switch this meter from the portal at all (the site
        allows it and the platform drives the meter's relay or valve). The hardware glue
        answers; without it no meter can be switched remotely."""
        self.ensure_one()
        return False

    def _portal_switch(self, action):
        """Switch the supply ``action`` ("off" or "on") for the tenant: queue the command,
        log it, return what the tenant is told. Implemented by the hardware glue."""
        self.ensure_one()
        raise UserError(self.env._("This meter cannot be switched from the portal."))
