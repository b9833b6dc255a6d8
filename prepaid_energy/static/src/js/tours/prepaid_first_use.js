/** @odoo-module */
/*
 * First use of the app by a new property manager: from the app's icon to a
 * printed receipt. Open an account by typing the tenant's name in the
 * occupancy field, sell a cash recharge, print the receipt again from the
 * recharge. The Python side (tests/test_tour_first_use.py) sets up a company
 * whose chart of accounts was loaded after the module, and checks the books.
 */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("prepaid_energy_first_use", {
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
            content: "The app opens on the prepaid accounts, not on a wizard",
            trigger: ".o_breadcrumb:contains(Prepaid accounts)",
        },
        {
            content: "Open an account from the accounts' screen",
            trigger: ".o_control_panel button:contains(Open an account)",
            run: "click",
        },
        {
            content: "Type the tenant's name in the occupancy field",
            trigger: '.modal div[name="occupancy_id"] input',
            run: "edit Lotus",
        },
        {
            content: "The tenant's occupancy is found",
            trigger: ".ui-menu-item a:contains(Lotus Trading Ltd)",
            run: "click",
        },
        {
            content: "The unit's free meter is proposed with its start reading",
            trigger: '.modal div[name="line_ids"] .o_data_row:contains(EL-0001)',
        },
        {
            content: "Confirm the opening",
            trigger: '.modal-footer button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "The account is open, in its unit",
            trigger: '.o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Open)',
        },
        {
            trigger: '.o_form_view div[name="unit_id"]:contains(101)',
        },
        {
            content: "Recharge from the account",
            trigger: '.o_form_view button[name="action_recharge"]',
            run: "click",
        },
        {
            content: "Choose the cash desk",
            trigger: '.modal div[name="journal_id"] input',
            run: "edit Cash",
        },
        {
            trigger: ".ui-menu-item a:contains(Cash)",
            run: "click",
        },
        {
            content: "The cash desk's method books the money",
            trigger: '.modal div[name="payment_method_line_id"] input:value(Manual Payment)',
        },
        {
            content: "Amount paid at the desk",
            trigger: '.modal div[name="amount"] input',
            run: "edit 150",
        },
        {
            content: "Confirm: the receipt downloads and the dialog closes",
            trigger: '.modal-footer button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "Back on the account, the balance shows the recharge",
            trigger: 'body:not(:has(.modal)) .o_form_view div[name="balance"]:contains(150.00)',
        },
        {
            content: "Open the account's recharges",
            trigger: '.o_form_view button[name="action_view_recharges"]',
            run: "click",
        },
        {
            content: "Open the recharge",
            trigger: '.o_list_view .o_data_row:contains(150.00) td[name="name"]',
            run: "click",
        },
        {
            content: "Print the receipt again",
            trigger: '.o_form_view button[name="action_print_receipt"]',
            run: "click",
        },
        {
            content: "Still on the recharge once the receipt is out",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Done)",
        },
    ],
});
