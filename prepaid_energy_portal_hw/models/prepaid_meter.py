import datetime

from markupsafe import Markup
from odoo import fields, models
from odoo.exceptions import UserError

from prepaid_energy_core import commands as core_commands
from prepaid_energy_core import selfservice
from prepaid_energy_core.policy import OPEN_FEES

from .prepaid_meter_command import TENANT

#: the window of the site's "switches per hour"
SWITCH_WINDOW = datetime.timedelta(hours=1)
SUPPLY_ACTIONS = [action for action, group in core_commands.GROUPS.items() if group == "supply"]


class PrepaidMeter(models.Model):
    _inherit = "prepaid.meter"

    relay_open_reason = fields.Selection(
        selection_add=[(TENANT, "The tenant")], ondelete={TENANT: "set null"}
    )

    # ------------------------------------------------------------------ what the tenant sees

    def _portal_supply_state(self):
        """The relay or valve as last read; before any read, what the platform decided."""
        self.ensure_one()
        if self.gateway_id and self.hw_online_state != "offline":
            if self.relay_state == "closed":
                return "on"
            if self.relay_state == "open":
                return "off"
        return super()._portal_supply_state()

    def _portal_supply_label(self):
        """Off for overdue fees says so: a recharge does not bring that supply back."""
        label = super()._portal_supply_label()
        if self._portal_supply_state() == "off" and self.relay_open_reason == OPEN_FEES:
            return self.env._("%(state)s: fees overdue", state=label)
        return label

    def _portal_tenant_asked(self, event):
        """The tenant's own switch is no news for them: the trip they asked for, the
        restore of their own switching back on."""
        self.ensure_one()
        if event == "tripped":
            return self.relay_open_reason == TENANT
        if event == "restored":
            last = self.env["prepaid.meter.command"].search(
                [
                    ("meter_id", "=", self.id),
                    ("action", "in", SUPPLY_ACTIONS),
                    ("state", "=", core_commands.VERIFIED),
                ],
                order="id desc",
                limit=1,
            )
            return last.origin == TENANT
        return super()._portal_tenant_asked(event)

    # ------------------------------------------------------------------ tenant's remote switch

    def _portal_can_switch(self):
        self.ensure_one()
        meter = self.sudo()
        return bool(
            meter.account_id.state == "open"
            and meter.site_id.portal_switch_allowed
            and meter.relay_capable
            and meter.gateway_id
            and meter.bus_address
            and "relay" in meter._hw_capabilities()
        )

    def _portal_switch(self, action):
        """Queue the tenant's switch ``action`` ("off" or "on") of this meter's supply.

        The caller checked the tenant's access to the meter. Refused (UserError, nothing
        written) where the site does not allow it, past the site's switches per hour,
        while an earlier switch of theirs is still on its way, and wherever the core
        says no: never over keep-power, an arrears trip or a staff trip. The command
        runs after commit, like every other; its trip is remembered as the tenant's,
        so the policy leaves it open and only the tenant closes it.
        """
        self.ensure_one()
        self.check_access("read")
        if not self._portal_can_switch():
            return super()._portal_switch(action)
        meter = self.sudo()
        Command = self.env["prepaid.meter.command"].sudo()
        now = self.env.cr.now()  # the clock create_date is written with
        mine = Command.search(
            [
                ("meter_id", "=", meter.id),
                ("origin", "=", TENANT),
                ("create_date", ">", now - SWITCH_WINDOW),
            ]
        )
        if mine.filtered(lambda command: command.state in core_commands.OPEN_STATES):
            raise UserError(self.env._("Your last switch is still on its way: wait a minute."))
        limit = selfservice.RateLimit(max(meter.site_id.portal_switch_limit, 1), SWITCH_WINDOW)
        retry_at = limit.retry_at(mine.mapped("create_date"), now)
        if retry_at:
            raise UserError(
                self.env._(
                    "You switched this meter %(count)s times in the last hour: try again in "
                    "%(minutes)s minutes.",
                    count=limit.limit,
                    minutes=max(1, int((retry_at - now).total_seconds() // 60) + 1),
                )
            )
        known = meter.relay_state in ("open", "closed") and meter.hw_online_state != "offline"
        refusal = selfservice.check_tenant_switch(
            action,
            supply_on=(meter.relay_state == "closed") if known else None,
            keep_power=meter.keep_power,
            in_arrears=meter.account_id.in_arrears,
            opened_by_tenant=meter.relay_open_reason == TENANT,
            open_reason=meter.relay_open_reason,
        )
        if refusal:
            raise UserError(meter._portal_switch_refusal_text(refusal))
        off = action == selfservice.SWITCH_OFF
        user = self.env.user
        Command._queue(
            [
                {
                    "meter_id": meter.id,
                    "action": meter._hw_utility_action(
                        core_commands.TRIP if off else core_commands.CLOSE
                    ),
                    "origin": TENANT,
                    "user_id": user.id,
                    "reason": self.env._(
                        "switched %(way)s by the tenant (%(user)s) in the portal",
                        way=self.env._("off") if off else self.env._("on"),
                        user=user.name,
                    ),
                    "open_reason": TENANT if off else False,
                }
            ]
        )
        meter.message_post(
            body=Markup("<p>%s</p>")
            % self.env._(
                "%(user)s asked from the portal to switch the supply %(way)s.",
                user=user.name,
                way=self.env._("off") if off else self.env._("on"),
            )
        )
        if off:
            return self.env._("Your supply will be switched off in a moment.")
        return self.env._("Your supply will be switched back on in a moment.")

    def _portal_switch_refusal_text(self, refusal):
        reasons = dict(self._fields["relay_open_reason"]._description_selection(self.env))
        return {
            "switch.state_unknown": self.env._(
                "The meter's supply state is not known yet: try again after its next reading."
            ),
            "switch.keep_power": self.env._("This meter's supply is kept on: it cannot be cut."),
            "switch.already_off": self.env._("The supply is already off."),
            "switch.already_on": self.env._("The supply is already on."),
            "switch.fees_overdue": self.env._(
                "The supply was cut off because fee invoices are overdue: it comes back on "
                "once they are paid."
            ),
            "switch.not_yours": self.env._(
                "The supply was cut off by %(reason)s, not by you: only a recharge or our staff "
                "restore it.",
                reason=(
                    reasons.get(refusal.params.get("reason")) or self.env._("the meter or the site")
                ).lower(),
            ),
            "switch.in_arrears": self.env._(
                "The account has run out: recharge first, then switch the supply back on."
            ),
        }[refusal.code]

    # ------------------------------------------------------------------ paid but still off

    def _hw_check_paid_but_off(self, now):
        """A supply the tenant switched off themselves is not "paid but still off"."""
        switched_off = self.filtered(lambda meter: meter.relay_open_reason == TENANT)
        flagged = switched_off.filtered(
            lambda meter: meter.paid_but_off or meter.paid_but_off_since
        )
        if flagged:
            flagged.write({"paid_but_off": False, "paid_but_off_since": False})
        return super(PrepaidMeter, self - switched_off)._hw_check_paid_but_off(now)
