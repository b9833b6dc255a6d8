"""Reading validation: deltas, rollover, replacement, spikes, gaps, estimates, slots."""

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.readings import (
    CLOCK_TOLERANCE,
    Reading,
    ReadingConfig,
    check_not_future,
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
        (lambda: Reading(at(0), 1.5), "total must be a Decimal"),
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
    assert [r.total for r in filled] == [
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
    assert [r.total for r in filled] == [D("0.00"), D("0.33"), D("0.67"), D("1.00")]
    assert [r.delta for r in filled[1:]] == [D("0.33"), D("0.34"), D("0.33")]


def test_estimate_across_rollover_wraps_values():
    readings = [Reading(at(0), D("999999.00")), Reading(at(60), D("1.00"))]
    filled = estimate_gaps(validate(None, readings, config()), HALF_HOUR)
    # 1.00 + 1000000 - 999999.00 = 2.00 over 1 h; at 00:30: 999999.00 + 1.00 wraps to 0.00
    assert filled[1].total == D("0.00") and filled[1].delta == D("1.00")
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
    assert filled[1].total == D("11.0") and filled[1].delta == D("2.0")
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
    assert all(0 <= r.total < LIMIT for r in filled)


def test_items_must_be_readings():
    with pytest.raises(ValidationError, match="item 1 is not a Reading"):
        validate(None, [Reading(at(0), D("1")), (at(30), D("2"))], config())


def test_checked_reading_can_serve_as_previous():
    (stored,) = validate(None, [Reading(at(0), D("7.00"), serial="A1")], config())
    (checked,) = validate(stored, [Reading(at(30), D("7.50"), serial="A1")], config())
    # 7.50 - 7.00 = 0.50
    assert checked.delta == D("0.50")


# --------------------------------------------------------------------------- band registers

BANDS_AT_100 = {"sharp": D("10"), "peak": D("40"), "flat": D("30"), "valley": D("20")}


def with_bands(minutes, total, **advance):
    bands = {band: BANDS_AT_100[band] + D(advance.get(band, "0")) for band in BANDS_AT_100}
    return Reading(at(minutes), D(total), bands=bands)


def test_band_registers_are_every_band_or_none():
    with pytest.raises(ValidationError, match="every band register .* or none; missing sharp"):
        Reading(at(0), D("100"), bands={"peak": D("1"), "flat": D("1"), "valley": D("1")})
    with pytest.raises(ValidationError, match="unknown band registers offpeak"):
        Reading(at(0), D("100"), bands={**BANDS_AT_100, "offpeak": D("1")})
    with pytest.raises(ValidationError, match="band register peak cannot be negative"):
        Reading(at(0), D("100"), bands={**BANDS_AT_100, "peak": D("-1")})


def test_band_deltas_must_add_up_to_the_total_delta():
    previous = with_bands(0, "100")
    good, short, back = validate(
        previous,
        [
            # 1.00 total, bands 0.30 + 0.70 (+0.02 of register rounding, within 0.05)
            with_bands(30, "101.00", peak="0.30", valley="0.72"),
            # 1.00 total but the bands moved 0.20: the other 0.80 is nowhere
            with_bands(60, "102.00", peak="0.50"),
            # a band register going back is never a consumption
            with_bands(90, "103.00", peak="2.80", flat="-0.10"),
        ],
        config(),
    )
    assert not good.band_mismatch and not good.needs_review
    assert good.band_deltas == {"sharp": 0, "peak": D("0.30"), "flat": 0, "valley": D("0.72")}
    # the previous of the second is the first (validate chains its readings)
    assert short.band_mismatch and short.needs_review and "band_mismatch" in short.flags
    assert back.band_mismatch and back.needs_review


def test_band_tolerance_grows_with_the_delta():
    # 1 % of a 100-unit delta is 1: bands adding up to 99.5 pass, 98.5 do not
    previous = with_bands(0, "100")
    close, far = (
        validate(previous, [with_bands(600, "200", peak=peak)], config(register_limit=None))[0]
        for peak in ("99.5", "98.5")
    )
    assert not close.band_mismatch
    assert far.band_mismatch


def test_physical_maximum_applies_to_band_deltas():
    # 60 A x 230 V = 13.8 kWh/h: 6.9 kWh per half hour at most. The total moves
    # 5 kWh (believable) but the peak band claims 9 and flat -4: held.
    limits = config(rated_current=D(60), voltage=D(230))
    (checked,) = validate(with_bands(0, "100"), [with_bands(30, "105", peak="9")], limits)
    assert checked.spike and checked.needs_review
    (fine,) = validate(with_bands(0, "100"), [with_bands(30, "105", peak="5")], limits)
    assert not fine.spike and not fine.band_mismatch


def test_bands_are_not_checked_across_a_rollover_or_a_replacement():
    limit = config(register_limit=D("1000"))
    before = Reading(at(0), D("999.5"), bands=dict(BANDS_AT_100))
    (rolled,) = validate(before, [Reading(at(30), D("0.5"), bands=dict(BANDS_AT_100))], limit)
    assert rolled.rollover and rolled.band_deltas is None and not rolled.band_mismatch
    fresh = {band: D(0) for band in BANDS_AT_100}
    (replaced,) = validate(
        before, [Reading(at(30), D("1"), replacement_start=D(0), bands=fresh)], limit
    )
    assert replaced.meter_replacement and replaced.band_deltas is None
    assert not replaced.needs_review


def test_bands_against_a_total_only_reading_are_not_checked():
    (checked,) = validate(Reading(at(0), D("100")), [with_bands(30, "101")], config())
    assert checked.band_deltas is None and not checked.band_mismatch
    assert checked.bands == BANDS_AT_100


# --------------------------------------------------------------------------- local slots, clocks


@pytest.mark.parametrize(
    ("stamp", "interval", "zone", "expected"),
    [
        # India is UTC+5:30: an hourly slot starts on the local hour, at :30 UTC
        (dt.datetime(2026, 1, 5, 10, 40), dt.timedelta(hours=1), "Asia/Kolkata", (10, 30)),
        (dt.datetime(2026, 1, 5, 10, 20), dt.timedelta(hours=1), "Asia/Kolkata", (9, 30)),
        # a daily slot starts at local midnight: 16:00 UTC the day before in Shanghai
        (dt.datetime(2026, 1, 5, 15, 59), dt.timedelta(days=1), "Asia/Shanghai", (-8, 0)),
        (dt.datetime(2026, 1, 5, 16, 0), dt.timedelta(days=1), "Asia/Shanghai", (16, 0)),
        # 15-minute slots in a whole-hour zone are the UTC ones
        (dt.datetime(2026, 1, 5, 7, 44), dt.timedelta(minutes=15), "Asia/Shanghai", (7, 30)),
    ],
)
def test_time_slot_follows_the_local_clock(stamp, interval, zone, expected):
    hours, minutes = expected
    day = dt.datetime(2026, 1, 5)
    assert time_slot(stamp, interval, zone) == day + dt.timedelta(hours=hours, minutes=minutes)


def test_time_slot_in_the_hour_the_clocks_repeat():
    # Berlin, 25 Oct 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC). Local 02:00-03:00
    # happens twice; each occurrence has its own hourly slot.
    first = time_slot(dt.datetime(2026, 10, 25, 0, 30), dt.timedelta(hours=1), "Europe/Berlin")
    second = time_slot(dt.datetime(2026, 10, 25, 1, 30), dt.timedelta(hours=1), "Europe/Berlin")
    assert (first, second) == (dt.datetime(2026, 10, 25, 0, 0), dt.datetime(2026, 10, 25, 1, 0))
    # the day's slot starts at local midnight (22:00 UTC, summer time) and holds both
    day = dt.timedelta(days=1)
    assert time_slot(dt.datetime(2026, 10, 25, 12), day, "Europe/Berlin") == dt.datetime(
        2026, 10, 24, 22
    )


def test_future_readings_are_refused_beyond_the_clock_tolerance():
    now = dt.datetime(2026, 1, 5, 12, 0)
    check_not_future(now + CLOCK_TOLERANCE, now)
    with pytest.raises(ValidationError, match="is in the future: more than 5 minutes after"):
        check_not_future(now + CLOCK_TOLERANCE + dt.timedelta(seconds=1), now)
