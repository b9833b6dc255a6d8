from odoo import models


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    def _prepaid_payment_method_line(self):
        """The inbound payment method of this provider's journal that books its payments."""
        self.ensure_one()
        return self.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self
        )[:1]

    def _prepaid_can_credit(self, company):
        """Whether a top-up paid through this provider can be credited to a wallet of
        ``company``: same company, and a payment method with an outstanding account
        (without one Odoo books no entry, and the recharge is refused as at a cash desk)."""
        self.ensure_one()
        return self.company_id == company and bool(
            self._prepaid_payment_method_line().payment_account_id
        )
