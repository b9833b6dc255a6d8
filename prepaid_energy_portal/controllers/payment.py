"""Online top-up: the amount page, then Odoo's payment form, then the transaction route.

The amount is checked (presets, minimum, maximum, room under the maximum
balance) when the payment form is shown and again when the transaction is
created; an HMAC token binds account, payer, amount and currency between
the two, so the browser cannot change them. The wallet is credited when the
provider confirms the payment (``payment.transaction._post_process``).
"""

from decimal import Decimal, InvalidOperation

from odoo import http
from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers.portal import PaymentPortal
from odoo.exceptions import ValidationError
from odoo.http import request

from .portal import PrepaidPortal


class PrepaidTopupPortal(PrepaidPortal):
    @staticmethod
    def _prepaid_topup_token(account_sudo, partner, amount):
        return payment_utils.generate_access_token(
            account_sudo.id, partner.id, float(amount), account_sudo.currency_id.id
        )

    @staticmethod
    def _prepaid_landing_route(account_sudo):
        return f"/my/prepaid/accounts/{account_sudo.id}?topup=1"

    def _prepaid_parse_amount(self, account_sudo, text):
        """``text`` as an amount of the account's currency, or raise ValidationError."""
        try:
            amount = Decimal(str(text).strip().replace(",", "."))
        except (InvalidOperation, ValueError):
            raise ValidationError(request.env._("%s is not an amount.", text)) from None
        if not amount.is_finite():
            raise ValidationError(request.env._("%s is not an amount.", text))
        digits = account_sudo.currency_id.decimal_places
        if amount != round(amount, digits):
            raise ValidationError(
                request.env._("Give the amount with at most %(digits)s decimals.", digits=digits)
            )
        return amount

    @http.route(
        "/my/prepaid/accounts/<int:account_id>/topup", type="http", auth="user", website=True
    )
    def portal_prepaid_topup(self, account_id, amount=None, **kwargs):
        account_sudo = self._prepaid_record("prepaid.account", account_id)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "prepaid_topup",
                "account": account_sudo,
                "presets": account_sudo._portal_topup_presets()
                if account_sudo.state == "open"
                else (),
                "amount_text": amount,  # what was typed ("amount" is the payment form's)
                "error": None,
            }
        )
        if account_sudo.state != "open":
            values["error"] = account_sudo._portal_topup_refusal(Decimal(1))
        elif amount:
            try:
                value = self._prepaid_parse_amount(account_sudo, amount)
            except ValidationError as error:
                values["error"] = error.args[0]
            else:
                values["error"] = account_sudo._portal_topup_refusal(value)
                if not values["error"]:
                    values.update(self._prepaid_payment_form_values(account_sudo, value))
        return request.render("prepaid_energy_portal.portal_prepaid_topup", values)

    def _prepaid_payment_form_values(self, account_sudo, amount):
        """What ``payment.form`` needs to pay ``amount`` (Decimal) onto the account."""
        partner_sudo = request.env.user.partner_id
        company = account_sudo.company_id
        currency = account_sudo.currency_id
        availability_report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                company.id,
                partner_sudo.id,
                float(amount),
                currency_id=currency.id,
                report=availability_report,
            )
            .filtered(lambda provider: provider._prepaid_can_credit(company))
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=currency.id,
                report=availability_report,
            )
        )
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
        )
        return {
            "topup_amount": amount,
            "amount": float(amount),
            "currency": currency,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": availability_report,
            "transaction_route": f"/my/prepaid/accounts/{account_sudo.id}/topup/transaction",
            "landing_route": self._prepaid_landing_route(account_sudo),
            "access_token": self._prepaid_topup_token(account_sudo, partner_sudo, amount),
            "show_tokenize_input_mapping": PaymentPortal._compute_show_tokenize_input_mapping(
                providers_sudo
            ),
            "company_mismatch": not PaymentPortal._can_partner_pay_in_company(
                partner_sudo, company
            ),
            "expected_company": company,
        }

    @http.route("/my/prepaid/accounts/<int:account_id>/topup/transaction", type="json", auth="user")
    def portal_prepaid_topup_transaction(self, account_id, amount, access_token, **kwargs):
        """Create the top-up's draft transaction; return its processing values."""
        account_sudo = self._prepaid_record("prepaid.account", account_id)
        partner = request.env.user.partner_id
        amount = float(amount)
        if not payment_utils.check_access_token(
            access_token, account_sudo.id, partner.id, amount, account_sudo.currency_id.id
        ):
            raise ValidationError(request.env._("The access token is invalid."))
        refusal = account_sudo._portal_topup_refusal(
            self._prepaid_parse_amount(account_sudo, amount)
        )
        if refusal:
            raise ValidationError(refusal)
        self._validate_transaction_kwargs(kwargs)
        self._prepaid_check_provider(account_sudo, kwargs)
        kwargs["landing_route"] = self._prepaid_landing_route(account_sudo)  # not the browser's
        tx_sudo = self._create_transaction(
            amount=amount,
            currency_id=account_sudo.currency_id.id,
            partner_id=partner.id,
            custom_create_values={"prepaid_account_id": account_sudo.id},
            **kwargs,
        )
        return tx_sudo._get_processing_values()

    @staticmethod
    def _prepaid_check_provider(account_sudo, kwargs):
        """The provider (or the saved token's) must be one that can credit the account."""
        if kwargs.get("flow") == "token":
            token_sudo = (
                request.env["payment.token"].sudo().browse(int(kwargs.get("token_id") or 0))
            )
            provider_sudo = token_sudo.exists().provider_id
        else:
            provider_sudo = (
                request.env["payment.provider"].sudo().browse(int(kwargs.get("provider_id") or 0))
            ).exists()
        if not provider_sudo or not provider_sudo._prepaid_can_credit(account_sudo.company_id):
            raise ValidationError(
                request.env._("This payment method does not collect for this account.")
            )
