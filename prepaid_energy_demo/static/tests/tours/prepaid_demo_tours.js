/** @odoo-module */
/*
 * The demo as its documented logins meet it (tests/test_demo_tours.py): the
 * cashier tops up the tenant in arrears from the room board; a tenant opens
 * their account on the portal.
 */
import { registry } from "@web/core/registry";

const ARREARS_TILE = ".o_prepaid_board_tile[data-serial='EL-A-103']";

registry.category("web_tour.tours").add("prepaid_demo_cashier", {
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
            content: "Open the Operations menu",
            trigger: '.o_main_navbar [data-menu-xmlid="prepaid_energy.menu_prepaid_operations"]',
            run: "click",
        },
        {
            content: "Open the room board",
            trigger: '[data-menu-xmlid="prepaid_energy_hw.menu_prepaid_room_board"]',
            run: "click",
        },
        {
            content: "Floors are columns, named within the site",
            trigger: ".o_kanban_group .o_column_title:contains('Building A (offices) / Floor 1')",
        },
        {
            content: "The tenant in arrears shows a negative balance",
            trigger: `${ARREARS_TILE}:contains('A-103'):contains('-')`,
        },
        {
            content: "Recharge from the tile",
            trigger: `${ARREARS_TILE} button[name='action_board_recharge']`,
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
            content: "Amount paid at the desk",
            trigger: '.modal div[name="amount"] input',
            run: "edit 500",
        },
        {
            content: "Confirm: the receipt downloads and the dialog closes",
            trigger: '.modal-footer button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "Back on the board, the dialog closed",
            trigger: `body:not(:has(.modal)) ${ARREARS_TILE}`,
        },
    ],
});

registry.category("web_tour.tours").add("prepaid_demo_tenant", {
    url: "/my",
    steps: () => [
        {
            content: "The home page shows the prepaid accounts entry",
            trigger: ".o_portal_index_card:not(.d-none) a[href='/my/prepaid/accounts']",
            run: "click",
        },
        {
            content: "The tenant's accounts, and only theirs",
            trigger: "table:contains('A-101'):not(:contains('B-101'))",
        },
        {
            content: "Open the account",
            trigger: "table a[href^='/my/prepaid/accounts/']",
            run: "click",
        },
        {
            content: "The balance as of the last reading, and the way to top up",
            trigger: ".o_prepaid_account_page .o_prepaid_as_of",
        },
        {
            trigger: "a.o_prepaid_topup_button",
        },
        {
            content: "The meters with their supply",
            trigger: ".o_prepaid_account_page:contains('EL-A-101'):contains('WA-A-101')",
        },
    ],
});
