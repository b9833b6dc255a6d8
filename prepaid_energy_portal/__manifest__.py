{
    "name": "Prepaid Energy: Tenant Portal",
    "summary": "Tenants on Odoo's customer portal: balance, usage charts, readings, receipts, "
    "online top-up, account linking and low-balance notifications",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/prepaid-energy/prepaid-energy",
    "author": "Prepaid Energy contributors",
    "license": "LGPL-3",
    # account_payment: online top-ups become payments of the provider's journal, as
    # invoice payments do; sms: notifications by SMS (queued sms.sms)
    "depends": ["prepaid_energy", "portal", "payment", "account_payment", "sms"],
    "external_dependencies": {"python": ["prepaid_energy_core"]},
    "data": [
        "security/ir.model.access.csv",
        "security/prepaid_portal_rules.xml",
        "data/prepaid_portal_cron.xml",
        "data/prepaid_notification_mail_templates.xml",
        "data/prepaid_notification_sms_templates.xml",
        "data/prepaid_digest_mail_template.xml",
        "views/prepaid_portal_binding_views.xml",
        "views/prepaid_notification_views.xml",
        "views/prepaid_location_views.xml",
        "views/prepaid_account_views.xml",
        "views/res_partner_views.xml",
        "views/prepaid_portal_menus.xml",
        "views/prepaid_portal_templates.xml",
        "views/prepaid_portal_topup_templates.xml",
        "reports/prepaid_recharge_receipt.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "prepaid_energy_portal/static/src/scss/prepaid_portal.scss",
            "prepaid_energy_portal/static/src/js/prepaid_usage_chart.js",
        ],
    },
    "post_init_hook": "post_init_hook",
}
