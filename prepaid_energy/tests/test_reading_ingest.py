from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .test_property_common import PropertyCase, utc


@tagged("post_install", "-at_install")
class TestReadingIngest(PropertyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 60 A x 230 V x 1 phase = 13.8 kWh an hour at most: 3.45 kWh per 15-minute slot
        cls.meter = cls._create_meter(
            "ING-0001", register_limit=100000, rated_current=60, voltage=230, phases="1"
        )

    def _readings(self):
        return self.env["prepaid.reading"].search([("meter_id", "=", self.meter.id)])

    def test_duplicates_are_idempotent(self):
        row = {"serial": "ING-0001", "timestamp": "2025-01-15 02:00:05", "total": "100.5"}
        first = self._ingest(row)
        self.assertEqual(len(first["created"]), 1)
        self.assertEqual(first["created"].slot, utc(2025, 1, 15, 2, 0))
        again = self._ingest(row, dict(row, timestamp="2025-01-15 02:07:00"))
        self.assertFalse(again["created"])
        self.assertFalse(again["rejected"])
        self.assertEqual([reading for _row, reading in again["duplicates"]], [first["created"]] * 2)
        self.assertEqual(len(self._readings()), 1)
        # the same slot with another value is refused, and says why
        other = self._ingest(dict(row, total="101"))
        self.assertFalse(other["created"])
        self.assertRegex(other["rejected"][0][1], "slot .* already holds a different reading")

    def test_same_slot_twice_in_one_batch(self):
        row = {"meter_id": self.meter.id, "timestamp": "2025-01-15 02:00:00", "total": "7"}
        result = self._ingest(row, dict(row, timestamp="2025-01-15 02:10:00"), dict(row, total="8"))
        self.assertEqual(len(result["created"]), 1)
        self.assertEqual(result["duplicates"][0][1], result["created"])
        self.assertRegex(result["rejected"][0][1], "given twice with different values")

    def test_bad_rows_rejected_with_reasons_and_nothing_written(self):
        good = {"serial": "ING-0001", "timestamp": "2025-01-15 00:00:00", "total": "10"}
        bad_rows = [
            {"serial": "NO-SUCH", "timestamp": "2025-01-15 00:00:00", "total": "10"},
            {"serial": "ING-0001", "timestamp": "2025-01-15 00:15:00"},
            {"serial": "ING-0001", "timestamp": "2025-01-15 00:30:00", "total": "ten"},
            {"serial": "ING-0001", "timestamp": "2025-01-15 00:45:00", "total": "-5"},
            {"serial": "ING-0001", "timestamp": "yesterday", "total": "12"},
            {"timestamp": "2025-01-15 01:00:00", "total": "12"},
            {"serial": "ING-0001", "timestamp": "2025-01-15 01:15:00", "total": "100000"},
        ]
        result = self._ingest(good, *bad_rows, all_or_nothing=True)
        self.assertFalse(result["created"])
        self.assertFalse(self._readings())
        reasons = [reason for _row, reason in result["rejected"]]
        self.assertEqual([row for row, _reason in result["rejected"]], bad_rows)
        for reason, expected in zip(
            reasons,
            [
                "unknown meter serial NO-SUCH",
                "total register missing",
                "total is not a number",
                "must be a number >= 0",
                "not a date and time",
                "no meter given",
                "outside the register range",
            ],
        ):
            self.assertIn(expected, reason)
        # without all_or_nothing the good row goes in, the bad ones still do not
        partial = self._ingest(good, *bad_rows)
        self.assertEqual(len(partial["created"]), 1)
        self.assertEqual(len(partial["rejected"]), len(bad_rows))
        self.assertEqual(self._readings(), partial["created"])

    def test_reading_going_backwards_is_held_or_rejected(self):
        self._ingest(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 0, 0), "total": "1000"}
        )
        back = {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 0, 15), "total": "990"}
        strict = self._ingest(back, strict=True)
        self.assertFalse(strict["created"])
        self.assertIn("register went back from 1000", strict["rejected"][0][1])
        held = self._ingest(back)["created"]
        self.assertEqual(held.state, "rejected")
        self.assertIn("negative_delta", held.flags)
        self.assertEqual(held.delta, -10)
        self.assertIn("went back", held.reject_reason)
        # the held reading is not the reference: the next delta counts from 1000
        self.assertEqual(self.meter.last_total, 1000)
        nxt = self._ingest(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 0, 30), "total": "1001"}
        )["created"]
        self.assertEqual(nxt.delta, 1)
        self.assertEqual(self.meter.last_reading_id, nxt)

    def test_rollover_spike_gap_and_replacement_flags(self):
        meter = self.meter
        rows = [
            {"meter_id": meter.id, "timestamp": utc(2025, 1, 15, 0, 0), "total": "99999.5"},
            # wraps at 100000: 99999.5 -> 100000 -> 0.7 is 1.2 kWh
            {"meter_id": meter.id, "timestamp": utc(2025, 1, 15, 0, 15), "total": "0.7"},
            # 1 kWh in 2 h (8 slots): a gap, not a spike
            {"meter_id": meter.id, "timestamp": utc(2025, 1, 15, 2, 15), "total": "1.7"},
            # 50 kWh in 15 min is above 3.45 kWh: a spike, held
            {"meter_id": meter.id, "timestamp": utc(2025, 1, 15, 2, 30), "total": "51.7"},
            # a new meter installed at register 5, now at 6: 1 kWh since replacement
            {
                "meter_id": meter.id,
                "timestamp": utc(2025, 1, 15, 2, 45),
                "total": "6",
                "replacement_start": "5",
            },
        ]
        # given in any order: sorted by time per meter
        created = self._ingest(*reversed(rows))["created"].sorted("timestamp")
        self.assertEqual(len(created), 5)
        baseline, rollover, gap, spike, replacement = created
        self.assertEqual(baseline.flags, "baseline")
        self.assertEqual(rollover.flags, "rollover")
        self.assertAlmostEqual(rollover.delta, 1.2)
        self.assertEqual(gap.flags, "gap")
        self.assertAlmostEqual(gap.delta, 1.0)
        self.assertEqual(spike.state, "rejected")
        self.assertIn("spike", spike.flags)
        self.assertIn("above the physical maximum 3.45", spike.reject_reason)
        # 02:15 -> 02:45 is also longer than 1.5 slots
        self.assertEqual(replacement.flags, "replacement,gap")
        self.assertAlmostEqual(replacement.delta, 1.0)
        self.assertEqual(meter.last_reading_id, replacement)

    def test_older_than_last_reading_is_rejected(self):
        self._ingest({"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 1, 0), "total": "5"})
        late = self._ingest(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 0, 30), "total": "4"}
        )
        self.assertIn("is not after the meter's last reading", late["rejected"][0][1])

    def test_manual_entry_goes_through_the_same_validation(self):
        Reading = self.env["prepaid.reading"]
        first = Reading.create(
            {"meter_id": self.meter.id, "timestamp": "2025-01-15 00:03:00", "total": 50}
        )
        self.assertEqual(first.slot, utc(2025, 1, 15, 0, 0))
        self.assertEqual(first.source, "manual")
        self.assertEqual(self.meter.last_reading_id, first)
        second = Reading.create(
            {"meter_id": self.meter.id, "timestamp": "2025-01-15 00:15:00", "total": 51.25}
        )
        self.assertAlmostEqual(second.delta, 1.25)
        # re-entering the same reading gives the stored one back, no second row
        self.assertEqual(
            Reading.create(
                {"meter_id": self.meter.id, "timestamp": "2025-01-15 00:20:00", "total": 51.25}
            ),
            second,
        )
        with self.assertRaisesRegex(ValidationError, "went back"):
            Reading.create(
                {"meter_id": self.meter.id, "timestamp": "2025-01-15 00:30:00", "total": 40}
            )
        with self.assertRaisesRegex(UserError, "raw meter data"):
            second.total = 52
        with self.assertRaisesRegex(UserError, "held for review"):
            second.unlink()
