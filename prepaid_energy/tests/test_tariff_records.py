import datetime
from decimal import Decimal

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from prepaid_energy_core.tariff import Reading, price_readings

from .test_property_common import PropertyCase


def local(*args):
    return datetime.datetime(*args)


def by_band(result):
    """{(band, tier): (quantity, amount)} summed over the priced lines."""
    totals = {}
    for line in result.lines:
        quantity, amount = totals.get((line.band, line.tier), (Decimal(0), Decimal(0)))
        totals[(line.band, line.tier)] = (quantity + line.quantity, amount + line.amount)
    return totals


@tagged("post_install", "-at_install")
class TestTariffRecords(PropertyCase):
    def test_tou_and_tier_from_records_prices_hand_computed_figure(self):
        tariff = self._create_tou_tier_tariff()
        # Wednesday 15 January 2025 (a workday), site-local times:
        # 06:00 -> 10:00: 40 kWh spread evenly: 06-08 valley 20 kWh, 08-10 peak 20 kWh.
        # 10:00 -> 22:00: 120 kWh, all peak; the cycle passes 100 kWh after 60 of them:
        #   60 kWh peak tier 1, 60 kWh peak tier 2 (+0.10).
        # valley 20 x 0.40 = 8.00; peak tier 1 (20 + 60) x 1.00 = 80.00;
        # peak tier 2 60 x 1.10 = 66.00; total 154.00 for 160 kWh.
        readings = [
            Reading(local(2025, 1, 15, 6), Decimal("1000")),
            Reading(local(2025, 1, 15, 10), Decimal("1040")),
            Reading(local(2025, 1, 15, 22), Decimal("1160")),
        ]
        result = price_readings(tariff._to_core(), readings)
        self.assertEqual(result.total, Decimal("154.00"))
        self.assertEqual(result.quantity, Decimal("160"))
        self.assertEqual(
            by_band(result),
            {
                ("valley", 1): (Decimal("20"), Decimal("8.00")),
                ("peak", 1): (Decimal("80"), Decimal("80.00")),
                ("peak", 2): (Decimal("60"), Decimal("66.00")),
            },
        )
        versions = {line.version for line in result.lines}
        self.assertEqual(versions, {str(tariff.version_ids.id)})

    def test_holiday_calendar_swaps_day_types(self):
        calendar = self.env["prepaid.holiday.calendar"].create(
            {
                "name": "China 2025 (extract)",
                "holiday_ids": [
                    Command.create({"name": "Festival", "date": "2025-01-16"}),  # a Thursday
                    Command.create(
                        {"name": "Make-up", "date": "2025-01-18", "kind": "workday"}  # Saturday
                    ),
                ],
            }
        )
        tariff = self._create_tou_tier_tariff(holiday_calendar_id=calendar.id)
        # Thursday 16th is a holiday: no holiday schedule, so the weekend one (flat 0.70):
        #   24 kWh x 0.70 = 16.80.
        # Saturday 18th is worked: workday schedule, 1 kWh an hour:
        #   valley 00-08 8 kWh + 22-24 2 kWh = 10 x 0.40 = 4.00; peak 08-22 14 x 1.00 = 14.00.
        # Without the calendar it would be the other way round (18.00 then 16.80).
        readings = [
            Reading(local(2025, 1, 16), Decimal("0")),
            Reading(local(2025, 1, 17), Decimal("24")),
            Reading(local(2025, 1, 18), Decimal("24")),
            Reading(local(2025, 1, 19), Decimal("48")),
        ]
        result = price_readings(tariff._to_core(), readings)
        self.assertEqual(
            by_band(result),
            {
                ("flat", 1): (Decimal("24"), Decimal("16.80")),
                ("valley", 1): (Decimal("10"), Decimal("4.00")),
                ("peak", 1): (Decimal("14"), Decimal("14.00")),
            },
        )
        self.assertEqual(result.total, Decimal("34.80"))

    def test_seasons_allowance_and_versions_from_records(self):
        tariff = self.env["prepaid.tariff"].create(
            {
                "name": "Seasonal",
                "version_ids": [
                    Command.create({"date_from": "2025-01-01", "kind": "flat", "price": 0.50}),
                    Command.create(
                        {"date_from": "2025-06-01", "kind": "flat", "price": 0.60, "allowance": 10}
                    ),
                ],
            }
        )
        # 31 May 12:00 -> 1 June 12:00, 24 kWh evenly: 12 kWh in May at 0.50 = 6.00 (first
        # version, no allowance); 12 kWh in June, the first units of the June cycle under the
        # second version: 10 kWh free, 2 kWh x 0.60 = 1.20. Total 7.20.
        result = price_readings(
            tariff._to_core(),
            [
                Reading(local(2025, 5, 31, 12), Decimal("0")),
                Reading(local(2025, 6, 1, 12), Decimal("24")),
            ],
        )
        self.assertEqual(result.total, Decimal("7.20"))
        free = [line for line in result.lines if line.free]
        self.assertEqual(sum(line.quantity for line in free), Decimal("10"))

    def test_seasons_from_records(self):
        def season(name, start, end, peak_price):
            return Command.create(
                {
                    "name": name,
                    "start_month": str(start[0]),
                    "start_day": start[1],
                    "end_month": str(end[0]),
                    "end_day": end[1],
                    "period_ids": [
                        Command.create(
                            {"day_type": "workday", "hour_from": 0, "hour_to": 24, "band": "peak"}
                        )
                    ],
                    "price_ids": [Command.create({"band": "peak", "price": peak_price})],
                }
            )

        tariff = self.env["prepaid.tariff"].create(
            {
                "name": "Summer peak",
                "version_ids": [
                    Command.create(
                        {
                            "date_from": "2025-01-01",
                            "kind": "tou",
                            "season_ids": [
                                season("Summer", (6, 1), (9, 30), 1.20),
                                season("Rest", (10, 1), (5, 31), 0.80),
                            ],
                        }
                    )
                ],
            }
        )
        self.assertEqual(len(tariff.version_ids.period_ids), 2)
        core = tariff._to_core()
        # 10 kWh on a July day at 1.20 = 12.00; 10 kWh on a January day at 0.80 = 8.00
        july = [Reading(local(2025, 7, 2), Decimal(0)), Reading(local(2025, 7, 3), Decimal(10))]
        january = [Reading(local(2025, 1, 8), Decimal(0)), Reading(local(2025, 1, 9), Decimal(10))]
        self.assertEqual(price_readings(core, july).total, Decimal("12.00"))
        self.assertEqual(price_readings(core, january).total, Decimal("8.00"))
        # seasons that leave October uncovered are refused
        with self.assertRaisesRegex(ValidationError, "do not cover the whole year"):
            tariff.version_ids.season_ids.filtered(lambda s: s.name == "Rest").start_month = "11"

    def test_bad_tariffs_cannot_be_saved(self):
        Tariff = self.env["prepaid.tariff"]

        def tou(periods, prices, tiers=()):
            return {
                "name": "Bad",
                "version_ids": [
                    Command.create(
                        {
                            "date_from": "2025-01-01",
                            "kind": "tou",
                            "period_ids": [Command.create(p) for p in periods],
                            "price_ids": [Command.create(p) for p in prices],
                            "tier_ids": [Command.create(t) for t in tiers],
                        }
                    )
                ],
            }

        peak_all_day = [{"day_type": "workday", "hour_from": 0, "hour_to": 24, "band": "peak"}]
        peak_price = [{"band": "peak", "price": 1.0}]
        with self.assertRaisesRegex(ValidationError, "does not cover 22:00-24:00"):
            Tariff.create(
                tou(
                    [{"day_type": "workday", "hour_from": 0, "hour_to": 22, "band": "peak"}],
                    peak_price,
                )
            )
        with self.assertRaisesRegex(ValidationError, "no price"):
            Tariff.create(tou(peak_all_day, [{"band": "valley", "price": 0.4}]))
        with self.assertRaisesRegex(ValidationError, "gap between tier 1"):
            Tariff.create(
                tou(
                    peak_all_day,
                    peak_price,
                    [{"qty_from": 0, "qty_to": 100}, {"qty_from": 150, "surcharge": 0.1}],
                )
            )
        with self.assertRaisesRegex(ValidationError, "tier 1 must start at 0"):
            Tariff.create(tou(peak_all_day, peak_price, [{"qty_from": 10}]))

    def test_editing_a_line_of_a_saved_tariff_is_checked_too(self):
        tariff = self._create_tou_tier_tariff()
        valley = tariff.version_ids.period_ids.filtered(lambda p: p.band == "valley")
        with self.assertRaisesRegex(ValidationError, "does not cover"):
            valley.hour_to = 7  # 07:00-08:00 left without a band
        with self.assertRaisesRegex(ValidationError, "no price"):
            tariff.version_ids.price_ids.filtered(lambda p: p.band == "valley").unlink()
        with self.assertRaisesRegex(ValidationError, "cycle start day"):
            tariff.cycle_start_day = 32

    def test_make_up_workday_must_be_a_weekend_day(self):
        with self.assertRaisesRegex(ValidationError, "is a Wednesday, not a weekend day"):
            self.env["prepaid.holiday.calendar"].create(
                {
                    "name": "Typo",
                    "holiday_ids": [
                        Command.create({"name": "x", "date": "2025-01-15", "kind": "workday"})
                    ],
                }
            )
