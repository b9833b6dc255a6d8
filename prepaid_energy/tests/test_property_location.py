from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .test_property_common import PropertyCase


@tagged("post_install", "-at_install")
class TestPropertyLocation(PropertyCase):
    def test_tree_names_and_site(self):
        self.assertEqual(self.unit.complete_name, "Harbour Park / Block A / Floor 1 / 101")
        for location in (self.site, self.building, self.floor, self.unit):
            self.assertEqual(location.site_id, self.site)
        tree = self.env["prepaid.location"].search([("id", "child_of", self.site.id)])
        self.assertEqual(tree, self.site | self.building | self.floor | self.unit)

    def test_names_within_the_site_where_a_view_picks_the_site(self):
        within = self.env["prepaid.location"].with_context(prepaid_location_within_site=True)
        self.assertEqual(within.browse(self.floor.id).display_name, "Block A / Floor 1")
        self.assertEqual(within.browse(self.site.id).display_name, "Harbour Park")
        self.assertEqual(self.floor.display_name, "Harbour Park / Block A / Floor 1")

    def test_moving_a_building_moves_its_units_to_the_new_site(self):
        other_site = self.env["prepaid.location"].create(
            {"name": "River Mall", "location_type": "site"}
        )
        self.building.parent_id = other_site
        self.assertEqual(self.unit.site_id, other_site)
        self.assertEqual(self.unit.complete_name, "River Mall / Block A / Floor 1 / 101")
        self.assertIn(
            self.unit, self.env["prepaid.location"].search([("id", "child_of", other_site.id)])
        )

    def test_units_read_site_settings_through_site(self):
        self.site.write({"alarm1_amount": 50, "alarm2_amount": 10, "reading_interval": 30})
        self.assertEqual(self.unit.site_id.alarm1_amount, 50)
        meter = self._create_meter("SITE-SETTINGS-1")
        self.assertEqual(meter.site_id, self.site)
        self.assertEqual(meter._slot_interval().total_seconds(), 1800)

    def test_hierarchy_rules(self):
        Location = self.env["prepaid.location"]
        with self.assertRaisesRegex(ValidationError, "cannot be placed under"):
            Location.create({"name": "B", "location_type": "building", "parent_id": self.floor.id})
        with self.assertRaisesRegex(ValidationError, "needs a parent"):
            Location.create({"name": "Lonely unit", "location_type": "unit"})
        with self.assertRaisesRegex(ValidationError, "cannot have a parent"):
            Location.create({"name": "S", "location_type": "site", "parent_id": self.site.id})
        shop = Location.create(
            {
                "name": "Shop",
                "location_type": "unit",
                "parent_id": Location.create({"name": "Mall", "location_type": "site"}).id,
            }
        )
        with self.assertRaisesRegex(ValidationError, "cannot be placed under unit"):
            self.floor.parent_id = shop

    def test_alarm_thresholds_must_be_in_order(self):
        # alarm1 above alarm2 above arrears; 0 switches a warning off
        self.site.write({"alarm1_amount": 50, "alarm2_amount": 10, "arrears_amount": 0})
        with self.assertRaisesRegex(ValidationError, "Harbour Park: .*alarm1 5.00 not above"):
            self.site.write({"alarm1_amount": 5})
        with self.assertRaisesRegex(ValidationError, "alarm2 10.00 not above arrears 20.00"):
            self.site.write({"arrears_amount": 20})
        self.site.write({"alarm1_amount": 0, "alarm2_amount": 0, "arrears_amount": -10})
        thresholds = self.site._get_wallet_thresholds()
        self.assertEqual(thresholds.enabled_levels(), ("arrears",))
        self.assertEqual(str(thresholds.arrears), "-10.00")

    def test_reading_interval_must_divide_a_day(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.site.reading_interval = 7

    def test_site_settings_are_a_managers_decision(self):
        officer = new_test_user(
            self.env, "prop_officer", groups="prepaid_energy.group_prepaid_officer"
        )
        self.unit.with_user(officer).area = 90  # officers run the locations...
        self.assertEqual(self.unit.area, 90)
        with self.assertRaisesRegex(AccessError, "site settings"):
            self.site.with_user(officer).alarm1_amount = 5  # ...not the money rules
