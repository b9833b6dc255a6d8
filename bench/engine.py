"""Benchmark of the tariff engine: TOU + tier pricing of total-register readings.

10,000 meters x 100 intervals of 15 minutes (1,000,000 interval readings),
priced one meter at a time on one core, each call with its own pricing state
(cycle positions spread so that many meters cross a tier boundary). Only the
``price_readings`` calls are timed; building the inputs is not.

Run: ``python bench/engine.py [meters] [intervals]``
"""

import datetime
import random
import sys
import time
from decimal import Decimal

from prepaid_energy_core.tariff import PricingState, Reading, Tariff, price_readings

TARGET = 100_000

WORKDAY = [
    ("00:00", "07:00", "valley"),
    ("07:00", "08:00", "flat"),
    ("08:00", "11:00", "peak"),
    ("11:00", "17:00", "flat"),
    ("17:00", "19:00", "peak"),
    ("19:00", "21:00", "sharp"),
    ("21:00", "23:00", "flat"),
    ("23:00", "24:00", "valley"),
]
WEEKEND = [("07:00", "23:00", "flat"), ("23:00", "07:00", "valley")]

TARIFF = {
    "code": "BENCH-TOU-TIER",
    "calendar": {"holidays": ["2024-10-01", "2024-10-02"], "workdays": ["2024-09-29"]},
    "cycle": {"period": "monthly", "start_day": 1},
    "versions": [
        {
            "effective_from": "2024-01-01",
            "kind": "tou",
            "seasons": [
                {
                    "name": "summer",
                    "start": "07-01",
                    "end": "09-30",
                    "schedules": {"workday": WORKDAY, "weekend": WEEKEND},
                    "prices": {"sharp": "1.3", "peak": "1.1", "flat": "0.7", "valley": "0.35"},
                },
                {
                    "name": "rest",
                    "start": "10-01",
                    "end": "06-30",
                    "schedules": {"workday": WORKDAY, "weekend": WEEKEND},
                    "prices": {"sharp": "1.2", "peak": "1.0", "flat": "0.6", "valley": "0.3"},
                },
            ],
            "tiers": [
                {"from": "0", "to": "200", "surcharge": "0"},
                {"from": "200", "to": "400", "surcharge": "0.05"},
                {"from": "400", "to": None, "surcharge": "0.30"},
            ],
        }
    ],
}


def meter_readings(rng, start, intervals):
    """Total-register readings every 15 minutes with a random load per interval."""
    step = datetime.timedelta(minutes=15)
    total = Decimal(rng.randrange(0, 10_000_000)) / 100
    readings = [Reading(start, total)]
    for number in range(1, intervals + 1):
        total += Decimal(rng.randrange(0, 400)) / 100  # 0..4 kWh per quarter hour
        readings.append(Reading(start + number * step, total))
    return readings


def main(meters=10_000, intervals=100):
    tariff = Tariff.from_dict(TARIFF)
    rng = random.Random(20240630)
    start = datetime.datetime(2024, 6, 30, 20, 0)  # crosses a season change and a midnight
    elapsed = 0.0
    amount = Decimal(0)
    priced = 0
    for _meter in range(meters):
        readings = meter_readings(rng, start, intervals)
        state = PricingState(
            cycle_start=datetime.datetime(2024, 6, 1),
            cycle_quantity=Decimal(rng.randrange(0, 45_000)) / 100,
        )
        began = time.perf_counter()
        result = price_readings(tariff, readings, state)
        elapsed += time.perf_counter() - began
        amount += result.total
        priced += len(readings) - 1
    rate = priced / elapsed
    print(f"priced {priced} intervals of {meters} meters in {elapsed:.2f} s, total {amount}")
    print(f"engine: {rate:.0f} readings/s (target >= {TARGET} readings/s)")
    return rate


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
