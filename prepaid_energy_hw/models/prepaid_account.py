from odoo import models

#: context key: the caller runs the policy itself once the posting is done
DEFER_POLICY = "prepaid_hw_defer_policy"


class PrepaidAccount(models.Model):
    _inherit = "prepaid.account"

    def _on_alarm_level_changed(self, previous_level):
        """A balance change outside a read cycle or a recharge (adjustment, refund,
        emergency credit): decide the meters' relays now. Commands are only queued;
        their action runs after this transaction commits."""
        result = super()._on_alarm_level_changed(previous_level)
        if not self.env.context.get(DEFER_POLICY):
            self.meter_ids._hw_apply_policy("wallet")
        return result
