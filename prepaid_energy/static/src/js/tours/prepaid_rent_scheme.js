/** @odoo-module */
/*
 * First use of fees by a property manager: set up a monthly rent, put a tenant's
 * account on it, preview the next charges and post what is due today. The Python
 * side (tests/test_tour_fee_scheme.py) opens the account and checks the charge
 * and the wallet afterwards.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("prepaid_energy_rent_scheme", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the Prepaid Energy app",
            trigger: '.o_app[data-menu-xmlid="prepaid_energy.menu_prepaid_root"]',
            run: "click",
        },
        {
            content: "Open the fees menu",
            trigger: '.o_main_navbar button:contains("Fees and common areas")',
            run: "click",
        },
        {
            content: "Open the fee schemes",
            trigger: '.dropdown-item:contains("Fee schemes")',
            run: "click",
        },
        {
            content: "The empty list says what a scheme is",
            trigger: ".o_view_nocontent:contains(Set up a rent or a property fee)",
        },
        {
            content: "Create a scheme",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: '.o_form_view div[name="name"] input',
            run: "edit Office rent",
        },
        {
            content: "A fixed amount per month, taken from the wallet (the defaults)",
            trigger: '.o_form_view div[name="collection"] input[data-value="wallet"]:checked',
        },
        {
            content: "The monthly amount",
            trigger: '.o_form_view div[name="amount"] input',
            run: "edit 300",
        },
        {
            content: "Add a tenant's account",
            trigger: 'div[name="subscription_ids"] .o_field_x2many_list_row_add a',
            run: "click",
        },
        {
            content: "Find the account by its tenant",
            trigger: 'div[name="subscription_ids"] .o_data_row div[name="account_id"] input',
            run: "edit Lotus",
        },
        {
            trigger: ".ui-menu-item a:contains(Lotus Trading Ltd)",
            run: "click",
        },
        {
            content: "Save the scheme",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Preview the next charges",
            trigger: '.o_form_view button[name="action_preview"]',
            run: "click",
        },
        {
            content: "This month's rent is due today, next month's is shown to come",
            trigger: '.modal div[name="line_ids"] .o_data_row:contains(Office rent)',
        },
        {
            trigger: '.modal div[name="due_count"]:contains(1)',
        },
        {
            content: "Post what is due today",
            trigger: '.modal button[name="action_post_due"]',
            run: "click",
        },
        {
            content: "The posted charge is listed",
            trigger: '.o_breadcrumb:contains(Fee charges posted)',
        },
        {
            trigger: '.o_list_view .o_data_row:contains(Office rent):contains(Deducted from the wallet)',
        },
    ],
});
