/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * A tenant tops up their wallet on a phone: from the portal home to the account, a
 * preset amount, the demo provider's card form, the payment status page, and back
 * to the account page showing the credit. Data come from the Python test.
 */
registry.category("web_tour.tours").add("prepaid_portal_topup_tour", {
    url: "/my",
    steps: () => [
        {
            content: "The home page shows the prepaid accounts entry once counted",
            trigger: ".o_portal_index_card:not(.d-none) a[href='/my/prepaid/accounts']",
            run: "click",
        },
        {
            content: "Open the account",
            trigger: "table a[href^='/my/prepaid/accounts/']",
            run: "click",
        },
        {
            content: "The balance is shown as of the last reading",
            trigger: ".o_prepaid_account_page .o_prepaid_as_of",
        },
        {
            content: "The usage chart is drawn",
            trigger: ".o_prepaid_usage_chart[data-rendered='daily'] canvas",
        },
        {
            content: "Top up",
            trigger: "a.o_prepaid_topup_button",
            run: "click",
        },
        {
            content: "Choose 100",
            trigger: "a.o_prepaid_preset[data-amount='100']",
            run: "click",
        },
        {
            content: "The amount to pay is 100",
            trigger: ".o_prepaid_topup_amount:contains('100.00')",
        },
        {
            content: "Pick the demo payment method",
            trigger: "input[name='o_payment_radio'][data-payment-method-code='demo']",
            run: "click",
        },
        {
            content: "Type a card number",
            trigger: "input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']:not(:disabled)",
            run: "click",
        },
        {
            content: "Back on the account page, the payment is credited",
            trigger: ".o_prepaid_account_page .o_prepaid_topup_done",
            timeout: 30000,
        },
    ],
});
