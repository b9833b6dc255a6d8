import csv
import os

from odoo.tests import tagged

from .test_property_common import PropertyCase

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "data", "import")


@tagged("post_install", "-at_install")
class TestPropertyImport(PropertyCase):
    def _load(self, model, filename):
        """Load a sample the way the import dialog does (base_import ends in load())."""
        with open(os.path.join(SAMPLES, filename), newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        result = self.env[model].load(header, rows)
        self.assertFalse(
            [m for m in result["messages"] if m["type"] == "error"], f"{filename}: {result}"
        )
        self.assertEqual(len(result["ids"]), len(rows))
        return self.env[model].browse(result["ids"])

    def test_samples_import_as_they_are(self):
        locations = self._load("prepaid.location", "locations.csv")
        tenants = self._load("res.partner", "tenants.csv")
        meters = self._load("prepaid.meter", "meters.csv")

        harbour = self.env.ref("__import__.site_harbour_park")
        unit = self.env.ref("__import__.hp_unit_a201")
        self.assertEqual(unit.complete_name, "Harbour Park / Block A / Floor 2 / 201")
        self.assertEqual(unit.site_id, harbour)
        self.assertEqual(unit.area, 120.25)
        self.assertEqual(harbour.tz, "Asia/Shanghai")
        self.assertEqual(len(locations.filtered(lambda loc: loc.location_type == "unit")), 5)
        shop = self.env.ref("__import__.rm_unit_g01")
        self.assertEqual(shop.parent_id, self.env.ref("__import__.site_river_mall"))

        clinic = self.env.ref("__import__.tenant_sunrise_clinic")
        self.assertTrue(clinic.is_protected_tenant)
        self.assertTrue(all(tenants.mapped("is_prepaid_tenant")))
        self.assertEqual(tenants.filtered(lambda p: not p.is_company).name, "Wang Li")

        ct_meter = self.env.ref("__import__.meter_g01_e")
        self.assertEqual((ct_meter.multiplier, ct_meter.phases, ct_meter.unit_id), (20, "3", shop))
        water = self.env.ref("__import__.meter_a101_w")
        self.assertEqual((water.utility, water.serial), ("water", "W00000101001"))
        self.assertEqual(len(meters), 6)
        self.assertTrue(self.env.ref("__import__.meter_g02_e").keep_power)
        self.assertEqual(set(meters.mapped("state")), {"not_opened"})
