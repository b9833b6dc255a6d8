"""The room board in a browser: tiles by floor, coloured by state; one remote action
(a trip) clicked on a tile, then verified on the simulated meter."""

from odoo.tests import HttpCase, tagged

from .common import HwCase


@tagged("post_install", "-at_install")
class TestHwBoardTour(HwCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Location = cls.env["prepaid.location"]
        building = Location.create(
            {"name": "Block A", "location_type": "building", "parent_id": cls.site.id}
        )
        floor = Location.create(
            {"name": "Floor 1", "location_type": "floor", "parent_id": building.id}
        )
        cls.unit.parent_id = floor
        cls.unit_2 = Location.create(
            {"name": "102", "location_type": "unit", "parent_id": floor.id}
        )
        cls.meter_2 = cls._create_meter("EL-0002", cls.unit_2)
        cls.meter_2.write({"gateway_id": cls.gateway.id, "bus_address": cls.sim.addresses[1]})

    def test_board_and_a_trip_from_a_tile(self):
        self.open_metered_account(start=1000, amount=100)
        self.read_cycle()
        self.meter_2.sudo().write({"state": "tripped", "relay_state": "open"})
        self.assertEqual(self.meter.building_id.name, "Block A")
        self.assertEqual(self.meter.floor_id.name, "Floor 1")
        self.start_tour("/odoo", "prepaid_hw_room_board", login=self.officer.login)
        trip = self.commands(action="trip")
        self.assertEqual((trip.origin, trip.user_id, trip.state), ("staff", self.officer, "queued"))
        self.run_commands()
        self.assertEqual(trip.state, "verified")
        self.assertEqual(self.applied(), ["trip"])
        self.assertFalse(self.sim_meter().relay_closed)
