/** @odoo-module */

import { registry } from "@web/core/registry";

const TILE = ".o_prepaid_board_tile[data-serial='EL-0001']";

// An officer opens the room board, finds the unit's tile, and trips its meter.
registry.category("web_tour.tours").add("prepaid_hw_room_board", {
    url: "/odoo/action-prepaid_energy_hw.action_prepaid_room_board",
    steps: () => [
        {
            content: "The board shows the floor as a column",
            trigger: ".o_kanban_group .o_column_title:contains('Floor 1')",
        },
        {
            content: "The unit's tile shows its state, balance and relay",
            trigger: `${TILE}:contains('Normal'):contains('Balance'):contains('Closed')`,
        },
        {
            content: "Another unit's tile shows it is tripped",
            trigger: ".o_prepaid_board_tile[data-serial='EL-0002']:contains('Tripped')",
        },
        {
            content: "Trip the meter from its tile",
            trigger: `${TILE} button.o_board_trip`,
            run: "click",
        },
        {
            content: "The board is back, the tile still there",
            trigger: `${TILE}:contains('Normal')`,
        },
    ],
});
