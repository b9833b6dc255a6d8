{
    "name": "Prepaid Energy Hardware",
    "summary": "Remote reading, relay and valve control, disconnection policy and a "
    "command queue verified by read-back, for prepaid meters on Modbus and DL/T 645",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/prepaid-energy/prepaid-energy",
    "author": "Prepaid Energy contributors",
    "license": "LGPL-3",
    "depends": ["prepaid_energy"],
    "external_dependencies": {"python": ["prepaid_energy_core"]},
    "data": [
        "security/ir.model.access.csv",
        "security/prepaid_hw_rules.xml",
        "data/prepaid_meter_profile_data.xml",
        "data/prepaid_hw_cron.xml",
        "views/prepaid_hw_menus.xml",
        "views/prepaid_gateway_views.xml",
        "views/prepaid_meter_profile_views.xml",
        "views/prepaid_meter_command_views.xml",
        "views/prepaid_meter_views.xml",
        "views/prepaid_room_board_views.xml",
        "views/prepaid_location_views.xml",
        "views/prepaid_supply_schedule_views.xml",
        "views/prepaid_batch_task_views.xml",
        "wizards/prepaid_gateway_scan_wizard_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "prepaid_energy_hw/static/tests/tours/*.js",
        ],
    },
}
