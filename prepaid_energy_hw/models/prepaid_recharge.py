from odoo import models

from prepaid_energy_core import commands as core

from .prepaid_account import DEFER_POLICY


class PrepaidRecharge(models.Model):
    _inherit = "prepaid.recharge"

    def _execute(self):
        """Book the recharge, then queue what the meters need: a credit push for meters
        that bill themselves, a close where the policy now allows it.

        Still the money transaction: nothing is sent to a meter here. The commands
        are queued and the runner is triggered; it runs after commit.
        """
        result = super(PrepaidRecharge, self.with_context(**{DEFER_POLICY: True}))._execute()
        recharge = self.sudo()
        meters = recharge.account_id.meter_ids.filtered(lambda m: m.gateway_id and m.active)
        if recharge.operation == "recharge":
            recharge._queue_credit_pushes(
                meters.filtered(
                    lambda m: m.billing_side == "meter" and "credit" in m._hw_capabilities()
                )
            )
        meters._hw_apply_policy("recharge", recharge=recharge)
        return result

    def _queue_credit_pushes(self, meters):
        """The whole recharge goes to the meter (one meter-billing meter per account is
        the usual case; with several, each would need its share: refused)."""
        self.ensure_one()
        if not meters:
            return self.env["prepaid.meter.command"]
        if len(meters) > 1:
            meters[0].message_post(
                body=self.env._(
                    "Recharge %(recharge)s: the account has %(count)s meters that bill "
                    "themselves; the credit is pushed to %(meter)s only.",
                    recharge=self.name,
                    count=len(meters),
                    meter=meters[0].display_name,
                )
            )
        meter = meters[0]
        return self.env["prepaid.meter.command"]._queue(
            [
                {
                    "meter_id": meter.id,
                    "action": core.PUSH_CREDIT,
                    "origin": "recharge",
                    "recharge_id": self.id,
                    "amount": self.amount,
                    "reason": self.env._("recharge %s", self.name),
                    "idempotency_key": f"recharge:{self.id}:{meter.id}:{core.PUSH_CREDIT}",
                }
            ]
        )
