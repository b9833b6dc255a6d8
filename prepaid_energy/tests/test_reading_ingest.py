import datetime
from decimal import Decimal

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

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


@tagged("post_install", "-at_install")
class TestReadingGuards(PropertyCase):
    """What a reading must be before it is stored, whoever sends it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 60 A x 230 V: 3.45 kWh per 15-minute slot at most
        cls.meter = cls._create_meter("GRD-0001", rated_current=60, voltage=230, phases="1")
        cls.officer = new_test_user(
            cls.env, login="grd_officer", groups="prepaid_energy.group_prepaid_officer"
        )
        cls.bands_at_100 = {"sharp": "10", "peak": "40", "flat": "30", "valley": "20"}

    def _banded(self, when, total, **moved):
        bands = {
            band: str(Decimal(value) + Decimal(moved.get(band, "0")))
            for band, value in self.bands_at_100.items()
        }
        return {"meter_id": self.meter.id, "timestamp": when, "total": total, **bands}

    def test_form_entry_on_a_band_meter_carries_no_zero_bands(self):
        # The meter gives its band registers; a person reads only the total through
        # the form (which shows the four band fields at 0).
        self._ingest(self._banded(utc(2025, 1, 15, 0), "100"))
        form = Form(self.env["prepaid.reading"].with_user(self.officer))
        form.meter_id = self.meter
        form.timestamp = utc(2025, 1, 15, 0, 15)
        form.total = 101
        manual = form.save()
        self.assertFalse(manual.has_bands, "no band registers given: none stored")
        self.assertEqual((manual.peak, manual.valley), (0, 0))
        # the next real reading is judged against the total only: 1 kWh, not its registers
        nxt = self._ingest(self._banded(utc(2025, 1, 15, 0, 30), "102", peak="2"))["created"]
        self.assertEqual((nxt.state, nxt.delta, nxt.flags), ("unbilled", 1.0, False))
        # one band given means all four: the others are registers at 0, here going back
        form = Form(self.env["prepaid.reading"].with_user(self.officer))
        form.meter_id = self.meter
        form.timestamp = utc(2025, 1, 15, 0, 45)
        form.total = 102.5
        form.peak = 42.5
        with self.assertRaisesRegex(ValidationError, "band register sharp went back from 10 to 0"):
            form.save()

    def test_a_row_gives_every_band_register_or_none(self):
        partial = {
            "meter_id": self.meter.id,
            "timestamp": utc(2025, 1, 15),
            "total": "5",
            "peak": "3",
        }
        rejected = self._ingest(partial)["rejected"]
        self.assertRegex(
            rejected[0][1], r"give every band register \(sharp, peak, flat, valley\) or none"
        )

    def test_band_deltas_must_add_up_to_the_total_or_the_reading_is_held(self):
        self._ingest(self._banded(utc(2025, 1, 15, 0), "100"))
        # total +1, bands +0.2: held, with the reason, never priced
        short = self._banded(utc(2025, 1, 15, 0, 15), "101", peak="0.2")
        held = self._ingest(short)["created"]
        self.assertEqual(held.state, "rejected")
        self.assertIn("band_mismatch", held.flags)
        self.assertRegex(
            held.reject_reason, "advanced 0.2 in all .* but the total 1: they must add up"
        )
        self.assertEqual(self.meter.last_total, 100, "a held reading is not the reference")
        strict = self._ingest(dict(short, timestamp=utc(2025, 1, 15, 0, 30)), strict=True)
        self.assertRegex(strict["rejected"][0][1], "must add up")
        # within the tolerance (each register rounded on its own): accepted
        fine = self._banded(utc(2025, 1, 15, 0, 30), "101", peak="0.97")
        fine = self._ingest(fine)["created"]
        # (from 00:00, the held reading skipped: longer than 1.5 slots)
        self.assertEqual((fine.state, fine.flags, fine.delta), ("unbilled", "gap", 1.0))
        # a band register going back is held too
        back = self._banded(utc(2025, 1, 15, 0, 45), "101.5", peak="1.47", valley="-0.5")
        back = self._ingest(dict(back, flat="30.5"))["created"]
        self.assertEqual(back.state, "rejected")
        self.assertIn("band register valley went back from 20 to 19.5", back.reject_reason)

    def test_the_physical_maximum_applies_to_band_deltas(self):
        self._ingest(self._banded(utc(2025, 1, 15, 0), "100"))
        # 3.44 kWh in the slot is believable, and the bands add up to it within the
        # tolerance; but the peak register alone claims 3.48, above 3.45: held
        over = self._ingest(self._banded(utc(2025, 1, 15, 0, 15), "103.44", peak="3.48"))
        over = over["created"]
        self.assertEqual(over.state, "rejected")
        self.assertIn("spike", over.flags)
        self.assertRegex(
            over.reject_reason, "band peak advanced 3.48 .* above the physical maximum 3.45"
        )
        under = self._banded(utc(2025, 1, 15, 0, 30), "103.40", peak="3.42")
        self.assertEqual(self._ingest(under)["created"].state, "unbilled")

    def test_future_timestamps_beyond_the_clock_tolerance_are_refused(self):
        now = fields.Datetime.now()
        soon = self._ingest(
            {
                "meter_id": self.meter.id,
                "timestamp": now + datetime.timedelta(minutes=4),
                "total": "1",
            }
        )
        self.assertTrue(soon["created"], "a meter clock a little ahead is fine")
        later = self._ingest(
            {
                "meter_id": self.meter.id,
                "timestamp": now + datetime.timedelta(minutes=20),
                "total": "2",
            }
        )
        self.assertRegex(
            later["rejected"][0][1],
            "is in the future: more than 5 minutes after the server's clock",
        )
        with self.assertRaisesRegex(ValidationError, "is in the future"):
            self.env["prepaid.reading"].create(
                {
                    "meter_id": self.meter.id,
                    "timestamp": now + datetime.timedelta(days=366),
                    "total": 3,
                }
            )

    def test_no_context_key_lets_a_caller_write_derived_values(self):
        Reading = self.env["prepaid.reading"].with_user(self.officer)
        first = Reading.with_context(prepaid_reading_checked=True).create(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15), "total": 10}
        )
        forged = Reading.with_context(prepaid_reading_checked=True).create(
            {
                "meter_id": self.meter.id,
                "timestamp": utc(2025, 1, 15, 0, 15),
                "total": 11,
                "delta": 999,
                "raw_delta": 999,
                "state": "priced",
                "flags": "estimate",
                "reject_reason": "none",
                "slot": utc(2030, 1, 1),
            }
        )
        self.assertEqual(
            (forged.delta, forged.raw_delta, forged.state, forged.flags, forged.slot),
            (1.0, 1.0, "unbilled", False, utc(2025, 1, 15, 0, 15)),
        )
        for vals in ({"state": "priced"}, {"delta": 0}, {"reject_reason": "x"}, {"slot": False}):
            with self.assertRaisesRegex(UserError, "set by its validation and pricing"):
                first.with_context(prepaid_reading_checked=True).write(vals)

    def test_slots_follow_the_site_clock(self):
        # India (UTC+5:30), hourly readings: 10:40 UTC is 16:10 local, slot 16:00 local
        site = self.env["prepaid.location"].create(
            {"name": "Pune", "location_type": "site", "tz": "Asia/Kolkata", "reading_interval": 60}
        )
        unit = self.env["prepaid.location"].create(
            {"name": "P1", "location_type": "unit", "parent_id": site.id}
        )
        hourly = self.env["prepaid.meter"].create({"serial": "GRD-IN", "unit_id": unit.id})
        reading = self._ingest(
            {"meter_id": hourly.id, "timestamp": utc(2025, 1, 15, 10, 40), "total": "1"}
        )["created"]
        self.assertEqual(reading.slot, utc(2025, 1, 15, 10, 30))
        # daily readings in Shanghai: the day starts at local midnight, 16:00 UTC
        self.site.reading_interval = 1440
        daily = self._ingest(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 17), "total": "1"}
        )["created"]
        self.assertEqual(daily.slot, utc(2025, 1, 15, 16))
        # the next local day, 15 hours later in UTC terms but the same slot... no: 23:30 UTC
        # is 07:30 local on the 16th, the same local day
        again = self._ingest(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 23, 30), "total": "1"}
        )
        self.assertEqual(again["duplicates"][0][1], daily)
