from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .test_property_common import PropertyCase


@tagged("post_install", "-at_install")
class TestPropertyMeter(PropertyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})

    def test_serial_unique_per_company(self):
        self._create_meter("000012345678")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self._create_meter("000012345678")
        # the same serial in another company is another meter
        other = self.env["prepaid.meter"].create(
            {"serial": "000012345678", "company_id": self.company_b.id}
        )
        self.assertEqual(other.name, "000012345678")

    def test_tariff_is_override_or_site_default(self):
        site_tariff = self._create_tou_tier_tariff()
        override = self._create_tou_tier_tariff(name="Shop TOU", code="SHOP")
        self.site.default_tariff_id = site_tariff
        meter = self._create_meter("TARIFF-1")
        self.assertEqual(meter._get_tariff(), site_tariff)
        meter.tariff_id = override
        self.assertEqual(meter._get_tariff(), override)

    def test_state_change_is_tracked_in_chatter(self):
        meter = self._create_meter("TRACK-1")
        self.env.cr.flush()
        meter.state = "tripped"
        self.env.flush_all()
        self.env.cr.flush()  # tracking values are written when the cursor flushes
        tracked = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "prepaid.meter"),
                ("mail_message_id.res_id", "=", meter.id),
            ]
        )
        self.assertEqual(tracked.field_id.name, "state")
        self.assertEqual(
            (tracked.old_value_char, tracked.new_value_char), ("Not opened", "Tripped")
        )

    def test_user_of_company_b_does_not_see_company_a_meters(self):
        meter_a = self._create_meter("A-ONLY-1")
        Location = self.env["prepaid.location"].with_company(self.company_b)
        site_b = Location.create(
            {"name": "B site", "location_type": "site", "company_id": self.company_b.id}
        )
        meter_b = self.env["prepaid.meter"].create(
            {"serial": "B-ONLY-1", "company_id": self.company_b.id, "unit_id": site_b.id}
        )
        user_b = new_test_user(
            self.env,
            "officer_b",
            groups="prepaid_energy.group_prepaid_officer",
            company_id=self.company_b.id,
            company_ids=[(6, 0, self.company_b.ids)],
        )
        visible = self.env["prepaid.meter"].with_user(user_b).search([])
        self.assertIn(meter_b, visible)
        self.assertNotIn(meter_a, visible)
        self.assertFalse(
            self.env["prepaid.location"].with_user(user_b).search([("id", "=", self.site.id)])
        )
        user_a = new_test_user(self.env, "officer_a", groups="prepaid_energy.group_prepaid_officer")
        self.assertNotIn(meter_b, self.env["prepaid.meter"].with_user(user_a).search([]))
