"""The portal's two tenants, with Odoo's demo payment provider collecting for their company."""

import re

from odoo.addons.prepaid_energy_portal.tests.common import PortalCase


class TopupCase(PortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls._demo_provider(cls.company)
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.outstanding = cls.bank_journal.inbound_payment_method_line_ids.payment_account_id[:1]

    @classmethod
    def _demo_provider(cls, company):
        """The demo provider of ``company`` in test mode, its payments booked in the bank
        journal with an outstanding receipts account (what a real setup needs too)."""
        Provider = cls.env["payment.provider"].sudo()
        provider = Provider.search(
            [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
        )
        if not provider:
            provider = Provider.search([("code", "=", "demo")], limit=1).copy(
                {"company_id": company.id}
            )
        provider.write({"state": "test", "is_published": True})
        bank = cls.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        provider.journal_id = bank
        # the bank's "Outstanding Receipts" when it has one, else the bank account itself
        outstanding = (
            bank.inbound_payment_method_line_ids.payment_account_id[:1] or bank.default_account_id
        )
        provider._prepaid_payment_method_line().payment_account_id = outstanding
        return provider

    # ------------------------------------------------------------------ the payment form's calls

    def _topup_form(self, account, amount):
        """Open the top-up page for ``amount`` as the browser does; return the payment
        form's context (its data- attributes)."""
        response = self._get(f"/my/prepaid/accounts/{account.id}/topup", amount=str(amount))
        self.assertEqual(response.status_code, 200)
        form = re.search(r'<form[^>]+id="o_payment_form"[^>]*>', response.text)
        self.assertTrue(form, "the payment form is shown")
        return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', form.group(0)))

    def _create_transaction(self, account, amount, access_token=None, **overrides):
        """What payment_form.js posts to the form's transaction route."""
        context = self._topup_form(account, amount)
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": float(context["amount"]),
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": context["landing-route"],
            "is_validation": False,
            "access_token": access_token or context["access-token"],
            **overrides,
        }
        return self._json(context["transaction-route"], params)

    def _simulate(self, reference, state="done"):
        """The demo provider's notification (its JS calls it after the 'card' is typed)."""
        return self._json(
            "/payment/demo/simulate_payment",
            {"reference": reference, "payment_details": "4242", "simulated_state": state},
        )

    def _poll(self):
        """The payment status page's poll: post-processes the monitored transaction."""
        return self._json("/payment/status/poll")

    def _transaction(self, reference):
        return self.env["payment.transaction"].sudo().search([("reference", "=", reference)])
