{
    "name": "Prepaid Energy: Demo Site",
    "summary": "Demo data: the Harbour Park site with 40 units, tenants, meters on two gateways, "
    "tariffs, accounts, recharges, fees, common areas, invoices and three months of readings",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/prepaid-energy/prepaid-energy",
    "author": "Prepaid Energy contributors",
    "license": "LGPL-3",
    "depends": [
        # the Chinese chart of accounts (CNY) for a site in Shanghai
        "l10n_cn",
        # the demo payment provider, so that the tenants can top up online
        "payment_demo",
        "prepaid_energy",
        "prepaid_energy_hw",
        "prepaid_energy_portal",
    ],
    "external_dependencies": {"python": ["prepaid_energy_core"]},
    "data": ["data/prepaid_demo_load.xml"],
    "assets": {
        "web.assets_tests": ["prepaid_energy_demo/static/tests/tours/*.js"],
    },
}
