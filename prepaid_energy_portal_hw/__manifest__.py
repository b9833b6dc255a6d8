{
    "name": "Prepaid Energy: Tenant Portal with remote meters",
    "summary": "The portal shows each relay or valve as last read, lets tenants switch their "
    "own supply where the site allows it, and keeps their own switching out of alarms",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/prepaid-energy/prepaid-energy",
    "author": "Prepaid Energy contributors",
    "license": "LGPL-3",
    "depends": ["prepaid_energy_portal", "prepaid_energy_hw"],
    "external_dependencies": {"python": ["prepaid_energy_core"]},
    "auto_install": True,
}
