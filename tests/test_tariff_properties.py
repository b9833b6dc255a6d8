"""Hypothesis properties of the tariff engine.

One rich tariff (three versions changing at odd moments, seasons, holidays,
TOU schedules with odd boundaries, tiers, a free allowance, a monthly cycle on
the 31st) priced on random readings, with total registers, band registers or
both.
"""

import bisect
import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.tariff import PricingState, Reading, Tariff, price_readings
from prepaid_energy_core.vocabulary import TOU_BANDS

D = Decimal
BASE = datetime.datetime(2024, 1, 1)
HALF_CENT = D("0.005")

ALL_BANDS = {"sharp": "1.3371", "peak": "0.9871", "flat": "0.6173", "valley": "0.3019"}
SUMMER_BANDS = {"sharp": "1.5", "peak": "1.1", "flat": "0.7", "valley": "0.25"}
WORKDAY = [
    ("22:45", "07:30:15", "valley"),
    ("07:30:15", "10:00", "flat"),
    ("10:00", "12:00", "peak"),
    ("12:00", "19:00", "flat"),
    ("19:00", "21:00", "sharp"),
    ("21:00", "22:45", "peak"),
]
WEEKEND = [("08:00", "22:00", "flat"), ("22:00", "08:00", "valley")]
HOLIDAY = [("00:00", "00:00", "valley")]

TARIFF_DATA = {
    "code": "PROP",
    "calendar": {"holidays": ["2024-05-01", "2024-10-01"], "workdays": ["2024-04-28"]},
    "cycle": {"period": "monthly", "start_day": 31},
    "versions": [
        {
            "effective_from": "2023-12-01",
            "kind": "tou",
            "seasons": [
                {
                    "name": "summer",
                    "start": "06-01",
                    "end": "08-31",
                    "schedules": {"workday": WORKDAY, "weekend": WEEKEND, "holiday": HOLIDAY},
                    "prices": SUMMER_BANDS,
                },
                {
                    "name": "rest",
                    "start": "09-01",
                    "end": "05-31",
                    "schedules": {"workday": WORKDAY, "weekend": WEEKEND},
                    "prices": ALL_BANDS,
                },
            ],
            "tiers": [
                {"from": "0", "to": "50", "surcharge": "0"},
                {"from": "50", "to": "120.5", "surcharge": "0.0537"},
                {"from": "120.5", "to": None, "surcharge": "0.31"},
            ],
            "allowance": "5",
        },
        {
            "effective_from": "2024-03-10T13:07:30",
            "kind": "flat",
            "price": "0.6137",
            "tiers": [
                {"from": "0", "to": "80", "surcharge": "0"},
                {"from": "80", "to": None, "surcharge": "0.1"},
            ],
        },
        {
            "effective_from": "2024-07-15",
            "kind": "tou",
            "schedules": {"workday": WORKDAY, "weekend": WEEKEND},
            "prices": ALL_BANDS,
            "allowance": "3.5",
        },
    ],
}
TARIFF = Tariff.from_dict(TARIFF_DATA)
# the same without free allowance
TARIFF_NO_ALLOWANCE = Tariff.from_dict(
    {
        **TARIFF_DATA,
        "versions": [
            {key: value for key, value in version.items() if key != "allowance"}
            for version in TARIFF_DATA["versions"]
        ],
    }
)

MULTIPLIERS = st.sampled_from([D(1), D(30), D("2.5")])
# readings start near the moments where something changes, or anywhere in 2024
ANCHORS = [
    datetime.datetime(2024, 1, 31),  # cycle start (day 31)
    datetime.datetime(2024, 2, 29),  # cycle start moved to the last day of February
    datetime.datetime(2024, 3, 10, 13, 7, 30),  # TOU -> flat version
    datetime.datetime(2024, 4, 28),  # make-up workday (a Sunday)
    datetime.datetime(2024, 5, 1),  # holiday
    datetime.datetime(2024, 6, 1),  # season change
    datetime.datetime(2024, 7, 15),  # flat -> TOU version
    datetime.datetime(2024, 8, 31),  # cycle start and season change
    *(BASE + datetime.timedelta(days=days) for days in range(3, 365, 17)),
]


@st.composite
def readings(draw, min_intervals=1, max_intervals=12, step_unit=1, delta_unit=1, bands=True):
    """Random sorted readings; steps are multiples of ``step_unit`` seconds and
    deltas multiples of ``delta_unit`` thousandths, so that tests can insert
    exactly interpolated readings. Band registers on all, some or none of them."""
    count = draw(st.integers(min_intervals, max_intervals))
    anchor = draw(st.sampled_from(ANCHORS))
    moment = anchor - datetime.timedelta(seconds=draw(st.integers(-3600, 2 * 86400)))
    with_bands = draw(st.sampled_from(["never", "always", "sometimes"] if bands else ["never"]))
    total = D(draw(st.integers(0, 10**6))) / 1000
    registers = {band: D(draw(st.integers(0, 10**5))) / 1000 for band in TOU_BANDS}
    result = [_reading(draw, moment, total, registers, with_bands)]
    # small loads make the allowance and the tiers last over many intervals
    most = draw(st.sampled_from([40, 400, 4000]))
    for _ in range(count):
        step = draw(st.one_of(st.integers(1, 3600), st.integers(3600, 3 * 86400)))
        moment += datetime.timedelta(seconds=step * step_unit)
        for band in TOU_BANDS:
            delta = D(draw(st.integers(0, most)) * delta_unit) / 1000
            registers[band] += delta
            total += delta
        result.append(_reading(draw, moment, total, registers, with_bands))
    return result


def _reading(draw, moment, total, bands, with_bands):
    has_bands = with_bands == "always" or (with_bands == "sometimes" and draw(st.booleans()))
    return Reading(moment, total, dict(bands) if has_bands else None)


STATES = st.builds(
    PricingState,
    cycle_start=st.none(),
    cycle_quantity=st.integers(0, 200_000).map(lambda units: D(units) / 1000),
    allowance_used=st.integers(0, 6000).map(lambda units: D(units) / 1000),
    rounding_remainder=st.integers(-50, 49).map(lambda tenths: D(tenths) / 10_000),
)


def interpolate(before, after, numerator, denominator):
    """The reading at ``numerator/denominator`` of the interval, exactly."""

    def between(low, high):
        return low + (high - low) * numerator / denominator

    moment = before.timestamp + (after.timestamp - before.timestamp) * numerator / denominator
    total = between(before.total, after.total)
    bands = None
    if before.bands is not None and after.bands is not None:
        bands = {band: between(before.bands[band], after.bands[band]) for band in before.bands}
    return Reading(moment, total, bands)


@settings(max_examples=150, deadline=None)
@given(readings(), STATES, MULTIPLIERS)
def test_line_amounts_add_up_to_the_total_and_nothing_is_lost(series, state, multiplier):
    result = price_readings(TARIFF, series, state, multiplier=multiplier)
    assert sum(line.amount for line in result.lines) == result.total
    assert sum(line.exact_amount for line in result.lines) == result.exact_total
    for line in result.lines:
        assert line.exact_amount == line.quantity * line.unit_price
        assert line.quantity > 0 and line.amount >= 0
    # booked + carried = exact + carried in: the total is the exact sum rounded once
    booked = result.total + result.state.rounding_remainder
    assert booked == result.exact_total + state.rounding_remainder
    assert -HALF_CENT <= result.state.rounding_remainder < HALF_CENT
    # every unit is priced exactly once
    consumed = ZERO = D(0)
    for before, after in zip(series, series[1:]):
        if before.bands is not None and after.bands is not None:
            delta = sum(after.bands[band] - before.bands[band] for band in TOU_BANDS)
        else:
            delta = after.total - before.total
        consumed += delta * multiplier
    assert result.quantity == consumed
    if consumed == ZERO:
        assert result.lines == ()


@settings(max_examples=200, deadline=None)
@given(st.data(), STATES, MULTIPLIERS, st.booleans())
def test_inserting_an_interpolated_reading_never_changes_the_exact_total(
    data, state, multiplier, with_allowance
):
    # Steps of 6 s units and deltas of 6 thousandths: any k/6 point is exact.
    # Band registers only without allowance: see the one documented corner in
    # the tariff module docstring (allowance running out in a band interval).
    denominator = 6
    tariff = TARIFF if with_allowance else TARIFF_NO_ALLOWANCE
    series = data.draw(
        readings(
            max_intervals=6,
            step_unit=denominator,
            delta_unit=denominator,
            bands=not with_allowance,
        )
    )
    position = data.draw(st.integers(1, len(series) - 1))
    numerator = data.draw(st.integers(1, denominator - 1))
    inserted = interpolate(series[position - 1], series[position], numerator, denominator)
    finer = [*series[:position], inserted, *series[position:]]
    whole = price_readings(tariff, series, state, multiplier=multiplier)
    split = price_readings(tariff, finer, state, multiplier=multiplier)
    assert split.exact_total == whole.exact_total
    assert split.total == whole.total
    assert split.state == whole.state


@settings(max_examples=150, deadline=None)
@given(st.data(), STATES, MULTIPLIERS, st.booleans())
def test_chunked_pricing_equals_batch_pricing(data, state, multiplier, merge_lines):
    series = data.draw(readings(max_intervals=14))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(series) - 1), max_size=5)))
    batch = price_readings(TARIFF, series, state, multiplier=multiplier, merge_lines=merge_lines)
    total = exact_total = D(0)
    start = 0
    for cut in [*cuts, len(series) - 1]:
        # each chunk starts with the last reading already priced
        chunk = price_readings(
            TARIFF, series[start : cut + 1], state, multiplier=multiplier, merge_lines=merge_lines
        )
        # the state goes through its string form, as Odoo stores it
        state = PricingState.from_dict(chunk.state.to_dict())
        total += chunk.total
        exact_total += chunk.exact_total
        start = cut
    assert total == batch.total
    assert exact_total == batch.exact_total
    assert state == batch.state


@settings(max_examples=150, deadline=None)
@given(readings(max_intervals=14), STATES, MULTIPLIERS)
def test_fast_path_gives_the_lines_of_the_general_path(series, state, multiplier):
    # Pricing one interval per call always takes the general (splitting) path;
    # pricing all at once takes the fast path wherever it can. Unmerged, the
    # lines must be the same, to the cent of every rounded amount.
    batch = price_readings(TARIFF, series, state, multiplier=multiplier, merge_lines=False)
    lines = []
    for before, after in zip(series, series[1:]):
        single = price_readings(TARIFF, [before, after], state, multiplier, merge_lines=False)
        lines.extend(single.lines)
        state = single.state
    assert list(batch.lines) == lines
    assert batch.state == state


def _line_key(line):
    return (line.version, line.band, line.tier, line.unit_price, line.free)


@settings(max_examples=150, deadline=None)
@given(readings(max_intervals=14), STATES, MULTIPLIERS)
def test_a_merged_line_is_a_run_of_the_parts_it_priced(series, state, multiplier):
    # Unmerged, each line is one part of one interval. Merged, a line must be
    # exactly a contiguous run of those parts with its key: it starts where its
    # first part starts, ends where its last part ends, never stretches over
    # time that gave it no units, and every part lies within one reading interval.
    parts = price_readings(TARIFF, series, state, multiplier=multiplier, merge_lines=False)
    merged = price_readings(TARIFF, series, state, multiplier=multiplier)
    moments = [reading.timestamp for reading in series]
    for part in parts.lines:
        after = bisect.bisect_left(moments, part.end)
        assert moments[after - 1] <= part.start < part.end <= moments[after]
    for line in merged.lines:
        run = [
            part
            for part in parts.lines
            if _line_key(part) == _line_key(line) and line.start <= part.start < line.end
        ]
        assert run and run[0].start == line.start and run[-1].end == line.end
        assert all(before.end == after.start for before, after in zip(run, run[1:]))
        assert sum(part.quantity for part in run) == line.quantity
    assert merged.total == parts.total and merged.state == parts.state


@settings(max_examples=150, deadline=None)
@given(st.data(), STATES, MULTIPLIERS, st.booleans())
def test_cuts_split_lines_but_never_the_money(data, state, multiplier, with_allowance):
    # Band registers only without allowance: a cut is a price change point, see
    # the one documented corner in the tariff module docstring.
    tariff = TARIFF if with_allowance else TARIFF_NO_ALLOWANCE
    merge_lines = data.draw(st.booleans())
    series = data.draw(readings(max_intervals=10, bands=not with_allowance))
    first, last = series[0].timestamp, series[-1].timestamp
    span = int((last - first).total_seconds())
    cuts = sorted(
        first + datetime.timedelta(seconds=offset)
        for offset in data.draw(st.sets(st.integers(0, span), max_size=4))
    )
    whole = price_readings(tariff, series, state, multiplier=multiplier, merge_lines=merge_lines)
    split = price_readings(
        tariff, series, state, multiplier=multiplier, merge_lines=merge_lines, cuts=cuts
    )
    for line in split.lines:
        period = bisect.bisect_right(cuts, line.start)
        assert period == len(cuts) or line.end <= cuts[period], (line, cuts)
    assert split.quantity == whole.quantity
    assert split.exact_total == whole.exact_total
    assert split.total == whole.total
    assert split.state == whole.state
