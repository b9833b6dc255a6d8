"""Reading validation: deltas, rollover, replacement, spikes, gaps, estimates, slots."""

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.readings import (
    Reading,
    ReadingConfig,
    estimate_gaps,
    time_slot,
    validate,
)

T0 = dt.datetime(2026, 1, 5, 0, 0)
HALF_HOUR = dt.timedelta(minutes=30)
LIMIT = D("1000000")  # 6+2 digit register: 999999.99 is the last value it shows


def at(minutes):
    return T0 + dt.timedelta(minutes=minutes)


def config(**changes):
    settings_ = {"expected_interval": HALF_HOUR, "register_limit": LIMIT}
    settings_.update(changes)
    return ReadingConfig(**settings_)


# --------------------------------------------------------------------------- deltas


def test_plain_deltas_and_baseline():
    readings = [
        Reading(at(0), D("100.00")),
        Reading(at(30), D("101.25")),
        Reading(at(60), D("101.25")),
    ]
    first, second, third = validate(None, readings, config())
    assert first.baseline and first.delta == D("0") and first.interval is None
    # 101.25 - 100.00 = 1.25 kWh
    assert second.delta == D("1.25") and second.flags == ()
    assert second.interval == HALF_HOUR
    assert third.delta == D("0")


def test_previous_reading_gives_the_first_delta_and_multiplier_applies():
    previous = Reading(at(0), D("50.00"))
    (checked,) = validate(previous, [Reading(at(30), D("50.40"))], config(multiplier=D("40")))
    # CT ratio 200/5 = 40: register advanced 0.40, billed 0.40 x 40 = 16.00 kWh
    assert checked.raw_delta == D("0.40")
    assert checked.delta == D("16.00")
    assert not checked.baseline


def test_rollover_past_register_limit():
    previous = Reading(at(0), D("999999.50"))
    (checked,) = validate(previous, [Reading(at(30), D("0.70"))], config())
    # 0.70 + 1000000 - 999999.50 = 1.20
    assert checked.rollover and not checked.negative_delta
    assert checked.delta == D("1.20")


def test_large_drop_is_a_negative_delta_not_a_rollover():
    previous = Reading(at(0), D("500000.00"))
    (checked,) = validate(previous, [Reading(at(30), D("12.00"))], config())
    # wrapped would be 12 + 1000000 - 500000 = 500012 > 1000000 / 10: not believable
    assert checked.negative_delta and not checked.rollover
    assert checked.delta == D("-499988.00")
    assert checked.needs_review


def test_rollover_judged_by_physical_maximum_when_known():
    # 60 A x 230 V x 1 phase x 0.5 h / 1000 = 6.9 kWh at most in half an hour
    physics = config(rated_current=D("60"), voltage=D("230"))
    previous = Reading(at(0), D("999998.00"))
    (wrap,) = validate(previous, [Reading(at(30), D("4.00"))], physics)
    # 4 + 1000000 - 999998 = 6.00 <= 6.9: a real wrap
    assert wrap.rollover and wrap.delta == D("6.00")
    (drop,) = validate(previous, [Reading(at(30), D("5.00"))], physics)
    # 5 + 1000000 - 999998 = 7.00 > 6.9: not a wrap, a drop
    assert drop.negative_delta and drop.delta == D("-999993.00")


def test_drop_without_register_limit_is_negative():
    previous = Reading(at(0), D("10.00"))
    (checked,) = validate(previous, [Reading(at(30), D("9.99"))], config(register_limit=None))
    assert checked.negative_delta and checked.delta == D("-0.01")


def test_spike_above_physical_maximum():
    # three-phase 10(60) A meter, 230 V phase voltage, CT x 1:
    # 60 x 230 x 3 x 0.5 / 1000 = 20.7 kWh per half hour at most
    physics = config(rated_current=D("60"), voltage=D("230"), phases=3)
    previous = Reading(at(0), D("1000.00"))
    ok, spike = validate(
        previous, [Reading(at(30), D("1020.70")), Reading(at(60), D("1041.41"))], physics
    )
    assert not ok.spike  # exactly 20.70
    assert spike.spike and spike.needs_review  # 20.71 > 20.70


def test_water_spike_uses_max_flow():
    # max flow 2.5 m3/h over 2 h = 5 m3
    water = config(
        utility="water",
        max_flow=D("2.5"),
        expected_interval=dt.timedelta(hours=2),
        register_limit=D("100000"),
    )
    previous = Reading(at(0), D("10.000"))
    (checked,) = validate(previous, [Reading(at(120), D("15.001"))], water)
    assert checked.spike and checked.delta == D("5.001")


def test_gap_flag_uses_tolerance():
    previous = Reading(at(0), D("1"))
    # tolerance 1.5 x 30 min = 45 min: 45 is fine, 46 is a gap
    (fine,) = validate(previous, [Reading(at(45), D("2"))], config())
    (gap,) = validate(previous, [Reading(at(46), D("2"))], config())
    assert not fine.gap
    assert gap.gap and gap.flags == ("gap",)


def test_given_estimate_is_carried():
    (checked,) = validate(
        Reading(at(0), D("1")), [Reading(at(30), D("2"), estimate=True)], config()
    )
    assert checked.estimate


# --------------------------------------------------------------------------- replacement


def test_replacement_restarts_from_new_meter_start():
    previous = Reading(at(0), D("8123.40"), serial="A1")
    (checked,) = validate(
        previous,
        [Reading(at(30), D("2.30"), serial="B7", replacement_start=D("1.80"))],
        config(),
    )
    # new meter installed at 1.80, now 2.30: 0.50 kWh, not a drop of 8121.10
    assert checked.meter_replacement and not checked.negative_delta
    assert checked.delta == D("0.50")


def test_replacement_as_first_reading_of_a_batch():
    (checked,) = validate(None, [Reading(at(0), D("3.00"), replacement_start=D("0"))], config())
    assert checked.meter_replacement and not checked.baseline
    assert checked.delta == D("3.00")


def test_serial_change_without_start_reading_is_refused():
    previous = Reading(at(0), D("10"), serial="A1")
    with pytest.raises(ValidationError, match="comes from meter B7 but the previous one from A1"):
        validate(previous, [Reading(at(30), D("1"), serial="B7")], config())


# --------------------------------------------------------------------------- bad input


def test_unsorted_timestamps_are_named():
    readings = [Reading(at(0), D("1")), Reading(at(60), D("2")), Reading(at(30), D("3"))]
    with pytest.raises(
        ValidationError, match="2026-01-05T00:30:00 comes after 2026-01-05T01:00:00"
    ):
        validate(None, readings, config())


def test_duplicate_timestamps_are_named():
    with pytest.raises(ValidationError, match="duplicate reading timestamp 2026-01-05T00:30:00"):
        validate(Reading(at(30), D("1")), [Reading(at(30), D("1"))], config())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Reading(at(0), D("-1")), "cumulative register cannot be negative"),
        (lambda: Reading(at(0), 1.5), "value must be a Decimal"),
        (lambda: Reading("2026-01-05", D("1")), "timestamp must be a datetime"),
        (
            lambda: config(expected_interval=dt.timedelta(0)),
            "expected interval must be a positive timedelta",
        ),
        (lambda: config(gap_tolerance=D("0.5")), "gap tolerance must be at least 1"),
        (lambda: config(phases=2), "phases must be 1 or 3"),
        (lambda: config(rated_current=D("60")), "give both rated current and voltage"),
        (lambda: config(max_flow=D("2")), "max flow applies to water meters"),
        (lambda: config(multiplier=D("0")), "multiplier must be positive"),
    ],
)
def test_bad_readings_and_configs_are_refused(build, message):
    with pytest.raises(ValidationError, match=message):
        build()


def test_value_beyond_register_limit_is_refused():
    with pytest.raises(ValidationError, match="outside the register range"):
        validate(None, [Reading(at(0), D("1000000.00"))], config())


# --------------------------------------------------------------------------- slots


@pytest.mark.parametrize(
    ("stamp", "interval", "expected"),
    [
        (dt.datetime(2026, 1, 5, 10, 0, 7), HALF_HOUR, dt.datetime(2026, 1, 5, 10, 0)),
        (dt.datetime(2026, 1, 5, 10, 29, 59), HALF_HOUR, dt.datetime(2026, 1, 5, 10, 0)),
        (dt.datetime(2026, 1, 5, 10, 30), HALF_HOUR, dt.datetime(2026, 1, 5, 10, 30)),
        (dt.datetime(2026, 1, 5, 23, 59), dt.timedelta(hours=1), dt.datetime(2026, 1, 5, 23)),
        (dt.datetime(2026, 1, 5, 7, 44), dt.timedelta(minutes=15), dt.datetime(2026, 1, 5, 7, 30)),
    ],
)
def test_time_slot_floors_to_the_slot(stamp, interval, expected):
    assert time_slot(stamp, interval) == expected


def test_time_slot_interval_must_divide_a_day():
    with pytest.raises(ValidationError, match="does not divide a day"):
        time_slot(T0, dt.timedelta(minutes=7))
    with pytest.raises(ValidationError, match="must be a positive timedelta"):
        time_slot(T0, dt.timedelta(0))


# --------------------------------------------------------------------------- estimates


def test_estimate_gaps_interpolates_and_keeps_total():
    readings = [Reading(at(0), D("100.00")), Reading(at(120), D("104.00"))]
    checked = validate(None, readings, config())
    filled = estimate_gaps(checked, HALF_HOUR)
    # slots 00:30, 01:00, 01:30 are missing; 4.00 kWh over 2 h = 1.00 per half hour
    assert [r.timestamp for r in filled] == [at(0), at(30), at(60), at(90), at(120)]
    assert [r.value for r in filled] == [
        D("100.00"),
        D("101.00"),
        D("102.00"),
        D("103.00"),
        D("104.00"),
    ]
    assert [r.estimate for r in filled] == [False, True, True, True, False]
    assert [r.delta for r in filled[1:]] == [D("1.00")] * 4
    assert filled[-1].interval == HALF_HOUR and filled[-1].gap  # the gap stays recorded


def test_estimate_rounds_to_register_resolution_and_gives_rest_to_real_reading():
    readings = [Reading(at(0), D("0.00")), Reading(at(90), D("1.00"))]
    filled = estimate_gaps(validate(None, readings, config()), HALF_HOUR)
    # 1.00 x 1/3 = 0.333.. -> 0.33; 1.00 x 2/3 = 0.666.. -> 0.67; rest 1.00 - 0.67 = 0.33
    assert [r.value for r in filled] == [D("0.00"), D("0.33"), D("0.67"), D("1.00")]
    assert [r.delta for r in filled[1:]] == [D("0.33"), D("0.34"), D("0.33")]


def test_estimate_across_rollover_wraps_values():
    readings = [Reading(at(0), D("999999.00")), Reading(at(60), D("1.00"))]
    filled = estimate_gaps(validate(None, readings, config()), HALF_HOUR)
    # 1.00 + 1000000 - 999999.00 = 2.00 over 1 h; at 00:30: 999999.00 + 1.00 wraps to 0.00
    assert filled[1].value == D("0.00") and filled[1].delta == D("1.00")
    assert filled[2].delta == D("1.00")


def test_estimate_with_multiplier_and_unaligned_readings():
    readings = [
        Reading(at(0) + dt.timedelta(seconds=20), D("10.0")),
        Reading(at(60) + dt.timedelta(seconds=20), D("12.0")),
    ]
    filled = estimate_gaps(validate(None, readings, config(multiplier=D("2"))), HALF_HOUR)
    # only slot 00:30 is empty; it lies 29 min 40 s into the 60 min span:
    # 2.0 x 1780/3600 = 0.988.. -> 1.0, register 11.0, billed 1.0 x 2 = 2.0
    assert [r.timestamp for r in filled] == [readings[0].timestamp, at(30), readings[1].timestamp]
    assert filled[1].value == D("11.0") and filled[1].delta == D("2.0")
    assert filled[2].delta == D("2.0")


def test_no_estimate_before_a_suspicious_reading():
    readings = [Reading(at(0), D("500000.00")), Reading(at(120), D("12.00"))]
    checked = validate(None, readings, config())
    assert checked[1].negative_delta
    assert estimate_gaps(checked, HALF_HOUR) == checked


@settings(max_examples=150)
@given(
    start=st.decimals(min_value=0, max_value=999000, places=2),
    steps=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=400),  # minutes to the next reading
            st.decimals(min_value=0, max_value=50, places=2),
        ),  # register advance
        min_size=1,
        max_size=12,
    ),
    multiplier=st.sampled_from([D("1"), D("40"), D("0.5")]),
)
def test_property_estimates_never_change_the_total(start, steps, multiplier):
    readings = [Reading(at(0), start)]
    minutes, value = 0, start
    for gap, advance in steps:
        minutes += gap
        value = (value + advance) % LIMIT
        readings.append(Reading(at(minutes), value))
    checked = validate(None, readings, config(multiplier=multiplier))
    filled = estimate_gaps(checked, HALF_HOUR)
    # every advance is small, so every drop is a rollover and the total is exact
    assert sum(r.delta for r in checked) == sum(a for _, a in steps) * multiplier
    assert sum(r.delta for r in filled) == sum(r.delta for r in checked)
    assert all(r.delta >= 0 for r in filled)
    real = [r for r in filled if not r.estimate]
    assert [r.timestamp for r in real] == [r.timestamp for r in checked]
    # at most one reading per slot, in time order
    slots = [time_slot(r.timestamp, HALF_HOUR) for r in filled]
    assert slots == sorted(slots)
    assert all(0 <= r.value < LIMIT for r in filled)


def test_items_must_be_readings():
    with pytest.raises(ValidationError, match="item 1 is not a Reading"):
        validate(None, [Reading(at(0), D("1")), (at(30), D("2"))], config())


def test_checked_reading_can_serve_as_previous():
    (stored,) = validate(None, [Reading(at(0), D("7.00"), serial="A1")], config())
    (checked,) = validate(stored, [Reading(at(30), D("7.50"), serial="A1")], config())
    # 7.50 - 7.00 = 0.50
    assert checked.delta == D("0.50")
