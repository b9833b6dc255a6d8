from odoo.tests import TransactionCase, tagged

from prepaid_energy_core import demo


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    def test_demo_site_loaded(self):
        site = self.env["prepaid.location"].search([("name", "=", demo.SITE_NAME)])
        self.assertEqual(len(site), 1)
        units = self.env["prepaid.location"].search(
            [("location_type", "=", "unit"), ("site_id", "=", site.id)]
        )
        self.assertEqual(len(units), 40)
        meters = self.env["prepaid.meter"].search([("serial", "in", [m["serial"] for m in demo.meters()])])
        self.assertEqual(len(meters), len(demo.meters()))
        accounts = self.env["prepaid.account"].search([("unit_id", "in", units.ids)])
        self.assertTrue(accounts)
        readings = self.env["prepaid.reading"].search_count([("meter_id", "in", meters.ids)])
        self.assertGreater(readings, len(meters) * 8 * 80)
        self.assertTrue(self.env["ir.config_parameter"].get_param("prepaid_energy_demo.simulator_state"))
        for login in ("manager", "cashier", "accountant", "tenant1@demo", "tenant2@demo"):
            self.assertTrue(self.env["res.users"].search([("login", "=", login)]), login)
