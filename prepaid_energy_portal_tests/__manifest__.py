{
    "name": "Prepaid Energy: Tenant Portal tests with the demo payment provider",
    "summary": "Test-only: online top-up, duplicate and concurrent payment notifications and "
    "the phone-sized top-up tour, paid with Odoo's demo provider",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "website": "https://github.com/prepaid-energy/prepaid-energy",
    "author": "Prepaid Energy contributors",
    "license": "LGPL-3",
    # payment_demo publishes a provider that accepts any card number in test mode: a
    # production database must never have it, so the portal does not depend on it and
    # its payment tests live here, as Odoo's own test modules do (test_event_full...);
    # the hardware glue, for the top-up that closes a relay on the simulator
    "depends": ["prepaid_energy_portal", "prepaid_energy_portal_hw", "payment_demo"],
    "assets": {
        "web.assets_tests": [
            "prepaid_energy_portal_tests/static/src/js/tours/*.js",
        ],
    },
}
