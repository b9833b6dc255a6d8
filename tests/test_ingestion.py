"""One reading row from every source, and the engine input built from stored readings."""

import bisect
import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core import calendar
from prepaid_energy_core.drivers.base import MeterReading
from prepaid_energy_core.ingestion import (
    StoredReading,
    price_meter,
    row_from_cells,
    row_from_entry,
    row_from_meter_reading,
)
from prepaid_energy_core.tariff import Tariff
from prepaid_energy_core.vocabulary import TOU_BANDS

D = Decimal
DT = datetime.datetime
BANDS = dict(zip(TOU_BANDS, (D("1.5"), D("20.25"), D("30"), D("4"))))

TOU = Tariff.from_dict(
    {
        "code": "ING",
        "versions": [
            {
                "effective_from": "2024-01-01",
                "kind": "tou",
                "schedules": {
                    "workday": [
                        ("23:00", "07:00", "valley"),
                        ("07:00", "08:00", "flat"),
                        ("08:00", "16:30", "peak"),
                        ("16:30", "17:00", "sharp"),
                        ("17:00", "23:00", "peak"),
                    ],
                    "weekend": [("00:00", "00:00", "flat")],
                },
                "prices": {"sharp": "1.3", "peak": "1.0", "flat": "0.7", "valley": "0.35"},
                "tiers": [
                    {"from": "0", "to": "50", "surcharge": "0"},
                    {"from": "50", "to": None, "surcharge": "0.1"},
                ],
                "allowance": "2",
            }
        ],
    }
)


# --------------------------------------------------------------------------- rows


def test_a_driver_reading_becomes_the_one_row():
    reading = MeterReading(
        address="000000101001",
        timestamp=DT(2025, 1, 15, 2, 0, 7),
        bands=dict(BANDS),
        total=D("55.75"),
    )
    assert row_from_meter_reading(reading, meter_id=7) == {
        "meter_id": 7,
        "timestamp": DT(2025, 1, 15, 2, 0, 7),
        "source": "hardware",
        "total": D("55.75"),
        **BANDS,
    }
    bare = MeterReading(address="1", timestamp=DT(2025, 1, 15), total=D(3))
    assert row_from_meter_reading(bare, serial="S1") == {
        "serial": "S1",
        "timestamp": DT(2025, 1, 15),
        "source": "hardware",
        "total": D(3),
    }


def test_a_csv_line_becomes_the_one_row():
    cells = {"serial": " A1 ", "timestamp": "2025-01-15 00:00:00", "total": "100", "peak": ""}
    assert row_from_cells(cells) == {
        "serial": "A1",
        "timestamp": "2025-01-15 00:00:00",
        "total": "100",
        "source": "import",
    }


def test_a_form_entry_gives_every_band_or_none():
    form = {"meter_id": 3, "timestamp": DT(2025, 1, 15), "total": 101.5}
    # the form shows the four band fields at 0: the person read the total only
    zeros = dict(form, **dict.fromkeys(TOU_BANDS, 0.0))
    assert row_from_entry(zeros) == {**form, "source": "manual"}
    # one band given: all four are (the others really are at 0)
    assert row_from_entry(dict(zeros, peak=80.5)) == {
        **form,
        "source": "manual",
        "sharp": 0,
        "peak": 80.5,
        "flat": 0,
        "valley": 0,
    }


# --------------------------------------------------------------------------- engine input

SHANGHAI = "Asia/Shanghai"  # UTC+8


def stored(key, when, delta, bands=None, flags=()):
    return StoredReading(key, when, D(delta), bands, frozenset(flags))


def registers(**values):
    return {band: D(values.get(band, "0")) for band in TOU_BANDS}


def test_charges_link_to_the_reading_whose_interval_they_priced():
    # Thursday 2025-01-16, local = UTC + 8. Half-hour readings with band registers:
    # sharp moves 16:30-17:00 only, peak 17:00-17:30 only.
    start = stored("r0", DT(2025, 1, 16, 8, 30), "0", registers(peak="10"))
    readings = [
        stored("r1", DT(2025, 1, 16, 9, 0), "1", registers(sharp="1", peak="10")),
        stored("r2", DT(2025, 1, 16, 9, 30), "2", registers(sharp="1", peak="12")),
        stored("r3", DT(2025, 1, 16, 10, 0), "0", registers(sharp="1", peak="12")),
    ]
    priced = price_meter(TOU, start, readings, SHANGHAI, digits=2)
    (period,) = priced.periods
    lines = [(p.line.band, p.line.free, p.start, p.end, p.reading) for p in period.lines]
    assert lines == [
        # 2 kWh free allowance: the sharp unit, then one of the peak units
        ("sharp", True, DT(2025, 1, 16, 8, 30), DT(2025, 1, 16, 9, 0), "r1"),
        ("peak", True, DT(2025, 1, 16, 9, 0), DT(2025, 1, 16, 9, 30), "r2"),
        ("peak", False, DT(2025, 1, 16, 9, 0), DT(2025, 1, 16, 9, 30), "r2"),
    ]
    # the run: from the start reading to the last one (its interval priced nothing)
    assert (period.start, period.end) == (DT(2025, 1, 16, 8, 30), DT(2025, 1, 16, 10, 0))
    assert (period.quantity, period.amount) == (D(3), D("1.00"))


def test_running_total_bands_that_do_not_follow_and_no_start():
    # no start: the first reading is where billing starts. The second rolled over
    # (its delta is already resolved): its bands are not used, the clock splits.
    readings = [
        stored("a", DT(2025, 1, 16, 0), "0", registers(peak="100")),
        stored("b", DT(2025, 1, 16, 1), "3", registers(peak="1"), flags={"rollover"}),
        stored("c", DT(2025, 1, 16, 2), "1", registers(peak="2")),
    ]
    priced = price_meter(TOU, None, readings, SHANGHAI)
    # 08:00-10:00 local, all peak: 3 kWh (2 of them free) by the clock, then 1 kWh
    # (the bands of c follow those of b, but b's were not used: the clock again)
    lines = [
        (p.line.free, p.line.quantity, p.start, p.end, p.reading) for p in priced.periods[0].lines
    ]
    assert lines == [
        (True, D(2), DT(2025, 1, 16, 0), DT(2025, 1, 16, 1), "b"),
        (False, D(2), DT(2025, 1, 16, 0), DT(2025, 1, 16, 2), "c"),
    ]


def test_daylight_saving_end_keeps_the_order_and_the_utc_times():
    # Berlin, 26 Oct 2025: 03:00 CEST -> 02:00 CET at 01:00 UTC. The second
    # reading's local time (02:10 CET) is before the first's (02:50 CEST): booked
    # just after it, and mapped back to its own UTC moment.
    flat = Tariff.from_dict(
        {"code": "F", "versions": [{"effective_from": "2024-01-01", "kind": "flat", "price": "1"}]}
    )
    start = stored("s", DT(2025, 10, 26, 0, 50), "0")
    readings = [stored("x", DT(2025, 10, 26, 1, 10), "2"), stored("y", DT(2025, 10, 26, 2), "1")]
    priced = price_meter(flat, start, readings, "Europe/Berlin")
    (line,) = priced.periods[0].lines
    assert (line.start, line.end, line.reading) == (
        DT(2025, 10, 26, 0, 50),
        DT(2025, 10, 26, 2),
        "y",
    )
    assert line.line.quantity == D(3)
    # in local time the first interval lasts a microsecond, just after 02:50 CEST
    assert line.line.start == DT(2025, 10, 26, 2, 50)


def test_a_run_over_a_period_end_is_split_at_local_midnight():
    # 30 Jan 16:00 UTC -> 1 Feb 04:00 UTC is 31 Jan 00:00 -> 1 Feb 12:00 local:
    # 36 h, 36 kWh on the flat weekend... no: Friday 31 Jan is a workday; the
    # amounts differ by band, what matters is the cut at 1 Feb 00:00 local
    # (31 Jan 16:00 UTC): two periods, no line across it.
    start = stored("s", DT(2025, 1, 30, 16), "0")
    readings = [stored("m", DT(2025, 2, 1, 4), "36")]
    priced = price_meter(TOU, start, readings, SHANGHAI, invoice_period="monthly")
    january, february = priced.periods
    boundary = DT(2025, 1, 31, 16)
    assert (january.start, january.end) == (DT(2025, 1, 30, 16), boundary)
    assert (february.start, february.end) == (boundary, DT(2025, 2, 1, 4))
    assert january.quantity == D(24) and february.quantity == D(12)
    assert january.amount + february.amount == priced.result.total
    assert {p.reading for p in january.lines + february.lines} == {"m"}


# --------------------------------------------------------------------------- properties

ZONES = st.sampled_from([SHANGHAI, "Europe/Berlin", "Asia/Kolkata"])


@st.composite
def meter_history(draw):
    """A start reading and stored readings after it, around a DST change or a month end."""
    anchor = draw(st.sampled_from([DT(2025, 10, 25, 22), DT(2025, 3, 30), DT(2025, 1, 31, 12)]))
    moment = anchor + datetime.timedelta(minutes=draw(st.integers(-600, 600)))
    with_bands = draw(st.booleans())
    bands = {band: D(draw(st.integers(0, 1000))) for band in TOU_BANDS}
    start = stored("k0", moment, "0", dict(bands) if with_bands else None)
    readings = []
    for index in range(1, draw(st.integers(1, 12)) + 1):
        moment += datetime.timedelta(minutes=draw(st.sampled_from([1, 15, 30, 60, 600, 2000])))
        delta = D(0)
        idle = draw(st.integers(0, 3)) == 0  # an interval that consumed nothing
        for band in TOU_BANDS:
            step = D(0 if idle else draw(st.sampled_from([0, 1, 250, 3000]))) / 1000
            bands[band] += step
            delta += step
        flags = draw(st.sampled_from([(), (), ("gap",), ("rollover",)]))
        has = with_bands and draw(st.integers(0, 5)) > 0
        readings.append(stored(f"k{index}", moment, delta, dict(bands) if has else None, flags))
    return start, readings


@settings(max_examples=200, deadline=None)
@given(meter_history(), ZONES, st.sampled_from([None, "monthly"]))
def test_every_charge_lies_in_the_readings_it_priced_and_links_to_the_last(history, zone, period):
    start, readings = history
    priced = price_meter(TOU, start, readings, zone, invoice_period=period)
    moments = [start.timestamp] + [reading.timestamp for reading in readings]
    keys = [reading.key for reading in readings]
    lines = [line for charges in priced.periods for line in charges.lines]
    assert sum(line.line.quantity for line in lines) == priced.result.quantity
    assert sum(reading.raw_delta for reading in readings) == priced.result.quantity
    for line in lines:
        assert moments[0] <= line.start < line.end <= moments[-1]
        # the reading that ends the line's (last) interval
        position = bisect.bisect_left(moments, line.end)
        assert line.reading == keys[position - 1]
        # a line starts and ends in intervals that consumed something
        assert readings[position - 1].raw_delta > 0
        assert readings[bisect.bisect_right(moments, line.start) - 1].raw_delta > 0
    if period:
        local_start = calendar.to_local(moments[0], zone)
        local_end = calendar.to_local(moments[-1], zone)
        cuts = calendar.period_starts_between(local_start, local_end, period)
        boundaries = [calendar.to_utc(cut, zone) for cut in cuts]
        for line in lines:
            assert not any(line.start < boundary < line.end for boundary in boundaries)
        for charges in priced.periods:
            assert not any(charges.start < boundary < charges.end for boundary in boundaries)
    for charges in priced.periods:
        assert charges.amount == sum(line.line.amount for line in charges.lines)
        assert all(charges.start <= line.start < line.end <= charges.end for line in charges.lines)
    spans = [(charges.start, charges.end) for charges in priced.periods]
    assert all(before[1] <= after[0] for before, after in zip(spans, spans[1:]))
