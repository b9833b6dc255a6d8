from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_property_common import PropertyCase


@tagged("post_install", "-at_install")
class TestPropertyOccupancy(PropertyCase):
    def _occupy(self, partner, date_from, date_to=False, state="active"):
        return self.env["prepaid.occupancy"].create(
            {
                "partner_id": partner.id,
                "unit_id": self.unit.id,
                "date_from": date_from,
                "date_to": date_to,
                "state": state,
            }
        )

    def test_overlap_refused(self):
        self._occupy(self.tenant, "2025-01-01", "2025-06-30")
        other = self.env["res.partner"].create({"name": "Blue Sky Cafe"})
        with self.assertRaisesRegex(ValidationError, "already occupied by Lotus Trading"):
            self._occupy(other, "2025-06-30")  # the last day is shared
        with self.assertRaisesRegex(ValidationError, "already occupied"):
            self._occupy(other, "2024-12-01", "2025-01-01")
        # the day after the lease ends is free
        follower = self._occupy(other, "2025-07-01")
        self.assertEqual(follower.state, "active")

    def test_open_ended_lease_blocks_everything_after(self):
        self._occupy(self.tenant, "2025-01-01")
        other = self.env["res.partner"].create({"name": "Blue Sky Cafe"})
        with self.assertRaisesRegex(ValidationError, "open end"):
            self._occupy(other, "2030-01-01", "2030-12-31")

    def test_drafts_may_overlap_until_started(self):
        self._occupy(self.tenant, "2025-01-01")
        other = self.env["res.partner"].create({"name": "Blue Sky Cafe"})
        draft = self._occupy(other, "2025-03-01", state="draft")
        with self.assertRaisesRegex(ValidationError, "already occupied"):
            draft.action_activate()

    def test_ending_frees_the_unit_and_tenant_shows_on_unit(self):
        lease = self._occupy(self.tenant, "2025-01-01")
        self.assertEqual(self.unit.tenant_id, self.tenant)
        self.assertTrue(self.tenant.is_prepaid_tenant)
        self.assertEqual(self.tenant.prepaid_occupancy_count, 1)
        lease.action_end()
        self.assertEqual(lease.state, "ended")
        self.assertTrue(lease.date_to)
        self.assertFalse(self.unit.tenant_id)

    def test_only_units_are_occupied(self):
        with self.assertRaisesRegex(ValidationError, "not a unit"):
            self.env["prepaid.occupancy"].create(
                {"partner_id": self.tenant.id, "unit_id": self.floor.id, "date_from": "2025-01-01"}
            )
