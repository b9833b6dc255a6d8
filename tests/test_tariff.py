"""Worked examples and bad input for the tariff engine (prepaid_energy_core.tariff).

Every expected figure is computed by hand in the comments.
"""

import datetime
import doctest
from decimal import Decimal

import pytest

from prepaid_energy_core import tariff as tariff_module
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.tariff import (
    PricingState,
    Reading,
    Tariff,
    price_readings,
)

DT = datetime.datetime
D = Decimal

TIERS = [
    {"from": "0", "to": "200", "surcharge": "0"},
    {"from": "200", "to": "400", "surcharge": "0.05"},
    {"from": "400", "to": None, "surcharge": "0.30"},
]
# workday: valley 23-07, flat 07-08 and 22-23, peak 08-22
WORKDAY = [
    ("23:00", "07:00", "valley"),
    ("07:00", "08:00", "flat"),
    ("08:00", "22:00", "peak"),
    ("22:00", "23:00", "flat"),
]
PRICES = {"peak": "0.90", "flat": "0.60", "valley": "0.30"}


def make_tariff(*versions, cycle=None, calendar=None):
    data = {"code": "T", "versions": list(versions)}
    if cycle is not None:
        data["cycle"] = cycle
    if calendar is not None:
        data["calendar"] = calendar
    return Tariff.from_dict(data)


def flat_version(price, **extra):
    return {"effective_from": "2024-01-01", "kind": "flat", "price": price, **extra}


def tou_version(**extra):
    return {
        "effective_from": "2024-01-01",
        "kind": "tou",
        "schedules": {"workday": WORKDAY},
        "prices": PRICES,
        **extra,
    }


def readings(*points):
    return [Reading(when, D(total)) for when, total in points]


def summary(result):
    return [(line.band, line.tier, line.quantity, line.amount) for line in result.lines]


def test_module_docstring_example_runs():
    failures, tried = doctest.testmod(tariff_module)
    assert tried > 0
    assert failures == 0


def test_tou_interval_across_midnight():
    # Tue 2024-06-04 21:30 -> Wed 08:30, 22 kWh over 11 h = 2 kWh/h:
    # peak 21:30-22:00 1 kWh x 0.90 = 0.90; flat 22-23 2 x 0.60 = 1.20;
    # valley 23:00-07:00 (across midnight, one line) 16 x 0.30 = 4.80;
    # flat 07-08 2 x 0.60 = 1.20; peak 08:00-08:30 1 x 0.90 = 0.90. Total 9.00.
    result = price_readings(
        make_tariff(tou_version()),
        readings((DT(2024, 6, 4, 21, 30), "100"), (DT(2024, 6, 5, 8, 30), "122")),
    )
    assert summary(result) == [
        ("peak", None, D(1), D("0.90")),
        ("flat", None, D(2), D("1.20")),
        ("valley", None, D(16), D("4.80")),
        ("flat", None, D(2), D("1.20")),
        ("peak", None, D(1), D("0.90")),
    ]
    valley = result.lines[2]
    assert (valley.start, valley.end) == (DT(2024, 6, 4, 23), DT(2024, 6, 5, 7))
    assert result.total == D("9.00")
    assert result.quantity == D(22)


def test_quarter_hour_readings_across_midnight_merge_into_band_lines():
    # 22:30 -> 23:30 in 15-min steps of 0.5 kWh: 22:30-23:00 flat 1 kWh x 0.60 = 0.60,
    # 23:00-23:30 valley 1 kWh x 0.30 = 0.30; merged into one line per band.
    points = [
        (DT(2024, 6, 4, 22, 30) + datetime.timedelta(minutes=15 * n), 10 + D("0.5") * n)
        for n in range(5)
    ]
    result = price_readings(make_tariff(tou_version()), readings(*points))
    assert summary(result) == [
        ("flat", None, D("1.0"), D("0.60")),
        ("valley", None, D("1.0"), D("0.30")),
    ]
    assert result.lines[0].end == DT(2024, 6, 4, 23)
    # unmerged: one line per interval
    result = price_readings(make_tariff(tou_version()), readings(*points), merge_lines=False)
    assert [line.amount for line in result.lines] == [D("0.30"), D("0.30"), D("0.15"), D("0.15")]


def test_tier_boundary_crossed_inside_one_interval():
    # flat 0.50; cycle position 195; 10 kWh: 5 in tier 1 at 0.50 = 2.50,
    # 5 in tier 2 at 0.55 = 2.75. Total 5.25, position 205.
    tariff = make_tariff(flat_version("0.50", tiers=TIERS))
    state = PricingState(cycle_start=DT(2024, 6, 1), cycle_quantity=D(195))
    result = price_readings(
        tariff, readings((DT(2024, 6, 10, 10), "1000"), (DT(2024, 6, 10, 11), "1010")), state
    )
    assert summary(result) == [(None, 1, D(5), D("2.50")), (None, 2, D(5), D("2.75"))]
    assert [line.unit_price for line in result.lines] == [D("0.50"), D("0.55")]
    assert result.total == D("5.25")
    assert result.state.cycle_quantity == D(205)


def test_two_tier_boundaries_inside_one_interval():
    # position 195, 210 kWh: 5 x 0.50 = 2.50, 200 x 0.55 = 110.00, 5 x 0.80 = 4.00 -> 116.50
    tariff = make_tariff(flat_version("0.50", tiers=TIERS))
    state = PricingState(cycle_start=DT(2024, 6, 1), cycle_quantity=D(195))
    result = price_readings(
        tariff, readings((DT(2024, 6, 10), "0"), (DT(2024, 6, 11), "210")), state
    )
    assert summary(result) == [
        (None, 1, D(5), D("2.50")),
        (None, 2, D(200), D("110.00")),
        (None, 3, D(5), D("4.00")),
    ]
    assert result.state.cycle_quantity == D(405)


def test_tou_and_tier_combined_price_band_plus_surcharge():
    # position 398, 4 kWh in peak (12:00-13:00): 2 x (0.90 + 0.05) = 1.90, 2 x (0.90 + 0.30) = 2.40
    tariff = make_tariff(tou_version(tiers=TIERS))
    state = PricingState(cycle_start=DT(2024, 6, 1), cycle_quantity=D(398))
    result = price_readings(
        tariff, readings((DT(2024, 6, 4, 12), "0"), (DT(2024, 6, 4, 13), "4")), state
    )
    assert summary(result) == [("peak", 2, D(2), D("1.90")), ("peak", 3, D(2), D("2.40"))]


def test_tariff_change_in_the_middle_of_an_interval():
    # 0.50 until 2024-07-01 12:00, then 0.60. 11:00 -> 13:00, 4 kWh uniform:
    # 2 kWh x 0.50 = 1.00 (old version), 2 kWh x 0.60 = 1.20 (new version). Total 2.20.
    tariff = make_tariff(
        flat_version("0.50", ref="2024 rates"),
        {"effective_from": "2024-07-01T12:00:00", "kind": "flat", "price": "0.60"},
    )
    result = price_readings(
        tariff, readings((DT(2024, 7, 1, 11), "50"), (DT(2024, 7, 1, 13), "54"))
    )
    assert summary(result) == [(None, None, D(2), D("1.00")), (None, None, D(2), D("1.20"))]
    assert [line.version for line in result.lines] == ["2024 rates", "T@2024-07-01T12:00:00"]
    assert result.lines[0].end == result.lines[1].start == DT(2024, 7, 1, 12)


def test_flat_to_tou_change_mid_interval():
    # flat 0.50 until 2024-07-01 21:00, then TOU. 20:00 -> 23:00, 6 kWh = 2 kWh/h:
    # 20-21 flat version 2 x 0.50 = 1.00; 21-22 peak 2 x 0.90 = 1.80;
    # 22-23 flat band 2 x 0.60 = 1.20
    tariff = make_tariff(flat_version("0.50"), tou_version(effective_from="2024-07-01T21:00"))
    result = price_readings(tariff, readings((DT(2024, 7, 1, 20), "0"), (DT(2024, 7, 1, 23), "6")))
    assert summary(result) == [
        (None, None, D(2), D("1.00")),
        ("peak", None, D(2), D("1.80")),
        ("flat", None, D(2), D("1.20")),
    ]


def test_allowance_used_up_and_counted_in_the_tier_position():
    # allowance 10 kWh, flat 0.50, tiers 0-11 +0, 11+ +0.10.
    # interval 1: 6 kWh, all free (positions 0-6).
    # interval 2: 6 kWh: 4 free (6-10), 1 paid tier 1 (10-11) 0.50, 1 paid tier 2 (11-12) 0.60.
    # Total 1.10; allowance_used 10, cycle quantity 12.
    tiers = [
        {"from": "0", "to": "11", "surcharge": "0"},
        {"from": "11", "to": None, "surcharge": "0.10"},
    ]
    tariff = make_tariff(flat_version("0.50", tiers=tiers, allowance="10"))
    points = [(DT(2024, 6, 1), "0"), (DT(2024, 6, 2), "6"), (DT(2024, 6, 3), "12")]
    result = price_readings(tariff, readings(*points))
    assert [
        (line.tier, line.quantity, line.unit_price, line.amount, line.free) for line in result.lines
    ] == [
        (1, D(10), D(0), D("0.00"), True),
        (1, D(1), D("0.50"), D("0.50"), False),
        (2, D(1), D("0.60"), D("0.60"), False),
    ]
    assert result.total == D("1.10")
    assert (result.state.allowance_used, result.state.cycle_quantity) == (D(10), D(12))


def test_allowance_over_many_quarter_hours():
    # allowance 1 kWh, 0.25 kWh per quarter hour from 10:00 to 11:30 (6 intervals, flat 0.50):
    # 10:00-11:00 free (1 kWh), 11:00-11:30 paid 0.5 x 0.50 = 0.25
    tariff = make_tariff(flat_version("0.50", allowance="1"))
    step = datetime.timedelta(minutes=15)
    points = [(DT(2024, 6, 3, 10) + n * step, D("0.25") * n) for n in range(7)]
    result = price_readings(tariff, readings(*points))
    assert [(line.end, line.quantity, line.amount, line.free) for line in result.lines] == [
        (DT(2024, 6, 3, 11), D("1.00"), D("0.00"), True),
        (DT(2024, 6, 3, 11, 30), D("0.50"), D("0.25"), False),
    ]


def test_split_points_round_half_up_so_an_inserted_reading_changes_nothing():
    # 1 Wh (0.001 kWh) from 07:59:57 over 2000 s; flat band until 08:00, then peak.
    # At 08:00 (3 s) the cumulative quantity is 0.001 x 3/2000 = 0.0000015 -> 0.000002
    # (half up): flat 0.000002 x 0.60 + peak 0.000998 x 0.90 = 0.0000012 + 0.0008982.
    # Insert the reading at 07:59:59 (2 s, exactly 0.000001 kWh): the second interval
    # reaches 08:00 at 0.000999 x 1/1998 = 0.0000005 -> 0.000001 (half up), so again
    # 0.000002 flat in all. Half-even rounding would give 0.000001 here.
    tariff = make_tariff(tou_version())
    start = DT(2024, 6, 4, 7, 59, 57)
    end = start + datetime.timedelta(seconds=2000)
    whole = price_readings(tariff, readings((start, "5"), (end, "5.001")))
    inserted = (start + datetime.timedelta(seconds=2), "5.000001")
    split = price_readings(tariff, readings((start, "5"), inserted, (end, "5.001")))
    assert whole.exact_total == split.exact_total == D("0.0008994")


def test_allowance_comes_back_with_the_next_cycle():
    # allowance 10; the interval 31 May 23:00 -> 1 June 01:00 (4 kWh, cycle starts 1 June):
    # May part 2 kWh paid at 0.50 = 1.00 (allowance of May used up), June part 2 kWh free.
    tariff = make_tariff(flat_version("0.50", allowance="10"))
    state = PricingState(cycle_start=DT(2024, 5, 1), cycle_quantity=D(80), allowance_used=D(10))
    result = price_readings(
        tariff, readings((DT(2024, 5, 31, 23), "0"), (DT(2024, 6, 1, 1), "4")), state
    )
    assert [(line.quantity, line.amount, line.free) for line in result.lines] == [
        (D(2), D("1.00"), False),
        (D(2), D("0.00"), True),
    ]
    assert result.state == PricingState(DT(2024, 6, 1), D(2), D(2), D(0))


HOLIDAY_TARIFF = tou_version(
    schedules={
        "workday": [("08:00", "22:00", "peak"), ("22:00", "08:00", "valley")],
        "weekend": [("00:00", "24:00", "flat")],
        "holiday": [("00:00", "00:00", "valley")],
    }
)
NATIONAL_DAY = {"holidays": ["2024-10-01"], "workdays": ["2024-09-29"]}


@pytest.mark.parametrize(
    ("day", "band", "amount"),
    [
        # Saturday 28 Sep: weekend, flat 2 kWh x 0.60 = 1.20
        (datetime.date(2024, 9, 28), "flat", D("1.20")),
        # Sunday 29 Sep is a make-up workday: peak 2 x 0.90 = 1.80
        (datetime.date(2024, 9, 29), "peak", D("1.80")),
        # Tuesday 1 Oct is a holiday: valley all day 2 x 0.30 = 0.60
        (datetime.date(2024, 10, 1), "valley", D("0.60")),
        # Wednesday 2 Oct is an ordinary workday: peak 1.80
        (datetime.date(2024, 10, 2), "peak", D("1.80")),
    ],
)
def test_holidays_and_make_up_workdays_choose_the_schedule(day, band, amount):
    tariff = make_tariff(HOLIDAY_TARIFF, calendar=NATIONAL_DAY)
    noon = DT(day.year, day.month, day.day, 12)
    result = price_readings(
        tariff, readings((noon, "7"), (noon + datetime.timedelta(hours=1), "9"))
    )
    assert summary(result) == [(band, None, D(2), amount)]


def test_holiday_schedule_defaults_to_weekend_schedule():
    # no holiday schedule: 1 Oct (holiday) uses the weekend one (flat all day): 2 x 0.60
    version = tou_version(schedules={"workday": WORKDAY, "weekend": [("00:00", "24:00", "flat")]})
    tariff = make_tariff(version, calendar=NATIONAL_DAY)
    result = price_readings(
        tariff, readings((DT(2024, 10, 1, 12), "0"), (DT(2024, 10, 1, 13), "2"))
    )
    assert summary(result) == [("flat", None, D(2), D("1.20"))]


def test_seasons_with_their_own_prices():
    # summer 07-01..09-30 prices peak at 1.10, the rest of the year at 0.90.
    # 30 Jun 21:00 -> 1 Jul 09:00 (Sun -> Mon), 12 kWh = 1 kWh/h; weekend schedule = workday one:
    # 30 Jun: peak 21-22 1 x 0.90, flat 22-23 1 x 0.60, valley 23-24 1 x 0.30;
    # 1 Jul: valley 00-07 7 x 0.20 (summer valley), flat 07-08 1 x 0.60, peak 08-09 1 x 1.10.
    # 0.90 + 0.60 + 0.30 + 1.40 + 0.60 + 1.10 = 4.90
    summer = {"peak": "1.10", "flat": "0.60", "valley": "0.20"}
    version = {
        "effective_from": "2024-01-01",
        "kind": "tou",
        "seasons": [
            {
                "name": "summer",
                "start": "07-01",
                "end": "09-30",
                "schedules": {"workday": WORKDAY},
                "prices": summer,
            },
            {
                "name": "rest",
                "start": "10-01",
                "end": "06-30",
                "schedules": {"workday": WORKDAY},
                "prices": PRICES,
            },
        ],
    }
    result = price_readings(
        make_tariff(version), readings((DT(2024, 6, 30, 21), "0"), (DT(2024, 7, 1, 9), "12"))
    )
    assert [(line.band, line.quantity, line.amount) for line in result.lines] == [
        ("peak", D(1), D("0.90")),
        ("flat", D(1), D("0.60")),
        ("valley", D(1), D("0.30")),
        ("valley", D(7), D("1.40")),
        ("flat", D(1), D("0.60")),
        ("peak", D(1), D("1.10")),
    ]
    assert result.total == D("4.90")


def test_yearly_cycle_with_a_start_day_resets_the_tier_position():
    # yearly cycle from 15 July; flat 0.50, tier 2 from 2000 kWh at +0.30.
    # position 1990 in the cycle started 2023-07-15; 14 Jul 22:00 -> 15 Jul 02:00, 20 kWh = 5 kWh/h:
    # 22:00-24:00 10 kWh, positions 1990-2000, tier 1: 10 x 0.50 = 5.00;
    # new cycle at 00:00: 10 kWh, positions 0-10, tier 1 again: 5.00. Total 10.00.
    tiers = [
        {"from": "0", "to": "2000", "surcharge": "0"},
        {"from": "2000", "to": None, "surcharge": "0.30"},
    ]
    tariff = make_tariff(
        flat_version("0.50", tiers=tiers),
        cycle={"period": "yearly", "start_month": 7, "start_day": 15},
    )
    state = PricingState(cycle_start=DT(2023, 7, 15), cycle_quantity=D(1990))
    result = price_readings(
        tariff, readings((DT(2024, 7, 14, 22), "5000"), (DT(2024, 7, 15, 2), "5020")), state
    )
    assert summary(result) == [(None, 1, D(10), D("5.00")), (None, 1, D(10), D("5.00"))]
    assert result.state.cycle_start == DT(2024, 7, 15)
    assert result.state.cycle_quantity == D(10)


def test_monthly_cycle_start_day_31_in_february():
    # cycle day 31: February's cycle starts on the 29th (2024). Position 199 at 28 Feb:
    # 28 Feb 23:00 -> 29 Feb 01:00, 4 kWh: 1 kWh tier 1 (0.50) + 1 kWh tier 2 (0.55),
    # then a new cycle at 29 Feb 00:00: 2 kWh tier 1 (1.00). Total 2.55.
    tariff = make_tariff(
        flat_version("0.50", tiers=TIERS), cycle={"period": "monthly", "start_day": 31}
    )
    state = PricingState(cycle_start=DT(2024, 1, 31), cycle_quantity=D(199))
    result = price_readings(
        tariff, readings((DT(2024, 2, 28, 23), "0"), (DT(2024, 2, 29, 1), "4")), state
    )
    assert summary(result) == [
        (None, 1, D(1), D("0.50")),
        (None, 2, D(1), D("0.55")),
        (None, 1, D(2), D("1.00")),
    ]
    assert result.state.cycle_start == DT(2024, 2, 29)


def test_meter_multiplier_scales_the_register_delta():
    # CT 150/5 = 30, PT 1: register 12.5 -> 13.0 is 0.5 x 30 = 15 kWh x 0.50 = 7.50
    tariff = make_tariff(flat_version("0.50"))
    result = price_readings(
        tariff, readings((DT(2024, 6, 1), "12.5"), (DT(2024, 6, 2), "13.0")), multiplier=D(30)
    )
    assert result.quantity == D(15)
    assert result.total == D("7.50")


def test_band_registers_give_the_band_split():
    # band registers say 2 kWh peak and 3 kWh valley, whatever the hour:
    # 2 x 0.90 + 3 x 0.30 = 2.70 (the total register delta 99 is ignored)
    tariff = make_tariff(tou_version())
    first = Reading(DT(2024, 6, 4, 12), D(0), {"peak": D(10), "valley": D(20)})
    second = Reading(DT(2024, 6, 4, 13), D(99), {"peak": D(12), "valley": D(23)})
    result = price_readings(tariff, [first, second])
    assert summary(result) == [("peak", None, D(2), D("1.80")), ("valley", None, D(3), D("0.90"))]


def test_band_registers_on_a_flat_tariff_add_up():
    # flat 0.50, bands 2 + 3 = 5 kWh -> 2.50, one line without band
    tariff = make_tariff(flat_version("0.50"))
    first = Reading(DT(2024, 6, 4, 12), None, {"peak": D(10), "valley": D(20)})
    second = Reading(DT(2024, 6, 4, 13), None, {"peak": D(12), "valley": D(23)})
    assert summary(price_readings(tariff, [first, second])) == [(None, None, D(5), D("2.50"))]


def test_band_registers_share_the_end_of_the_allowance_in_proportion():
    # allowance 10 left, peak 6 + valley 9 = 15 kWh in one interval: free shares
    # in proportion, cumulatively in band order: peak 6 x 10/15 = 4, valley 10 - 4 = 6.
    # Paid: peak 2 x 0.90 = 1.80, valley 3 x 0.30 = 0.90. Total 2.70.
    tariff = make_tariff(tou_version(allowance="10"))
    first = Reading(DT(2024, 6, 4, 12), None, {"peak": D(0), "valley": D(0)})
    second = Reading(DT(2024, 6, 4, 13), None, {"peak": D(6), "valley": D(9)})
    result = price_readings(tariff, [first, second])
    assert [(line.band, line.quantity, line.amount, line.free) for line in result.lines] == [
        ("peak", D(4), D("0.00"), True),
        ("valley", D(6), D("0.00"), True),
        ("peak", D(2), D("1.80"), False),
        ("valley", D(3), D("0.90"), False),
    ]
    assert result.total == D("2.70")
    assert result.state.allowance_used == D(10)


def test_registers_given_as_int_or_str_are_read_as_decimal():
    # band interval then total interval: 2 x 0.90 (peak band) + 3 kWh at 13-14 peak x 0.90
    tariff = make_tariff(tou_version())
    series = [
        Reading(DT(2024, 6, 4, 12), 10, {"peak": "1"}),
        Reading(DT(2024, 6, 4, 13), "12", {"peak": 3}),
        Reading(DT(2024, 6, 4, 14), 15),
    ]
    assert price_readings(tariff, series).total == D("4.50")


def test_a_state_from_another_cycle_definition_means_the_cycle_containing_it():
    # cycle day 15; a state saying 1 June stands for the cycle 15 May - 15 June:
    # position 199 carries on, 2 kWh on 10 June: 1 x 0.50 + 1 x 0.55 = 1.05
    tariff = make_tariff(flat_version("0.50", tiers=TIERS), cycle={"start_day": 15})
    state = PricingState(DT(2024, 6, 1), D(199))
    result = price_readings(
        tariff, readings((DT(2024, 6, 10), "0"), (DT(2024, 6, 10, 1), "2")), state
    )
    assert result.total == D("1.05")
    assert result.state.cycle_start == DT(2024, 5, 15)


def test_band_register_for_an_unpriced_band_is_refused():
    tariff = make_tariff(tou_version())  # prices peak, flat and valley only
    first = Reading(DT(2024, 6, 4, 12), None, {"sharp": D(1)})
    second = Reading(DT(2024, 6, 4, 13), None, {"sharp": D(2)})
    with pytest.raises(ValidationError, match="band 'sharp' has no price"):
        price_readings(tariff, [first, second])


def test_rounding_carry_never_loses_a_cent():
    # 100 intervals of 0.015 kWh at 0.30 = 0.0045 each, exact total 0.45.
    # Rounding each line alone would book 0.00 a hundred times; the carry books 0.45.
    tariff = make_tariff(flat_version("0.30"))
    points = [
        (DT(2024, 6, 1) + datetime.timedelta(minutes=15 * n), D("0.015") * n) for n in range(101)
    ]
    result = price_readings(tariff, readings(*points), merge_lines=False)
    assert len(result.lines) == 100
    assert result.exact_total == D("0.45")
    assert sum(line.amount for line in result.lines) == result.total == D("0.45")
    assert {line.amount for line in result.lines} == {D("0.00"), D("0.01")}


def test_rounding_remainder_is_carried_to_the_next_call():
    # 0.0045 + 0.0045: first call books 0.00 and carries 0.0045; second books 0.01 (0.009)
    tariff = make_tariff(flat_version("0.30"))
    first = price_readings(
        tariff, readings((DT(2024, 6, 1), "0"), (DT(2024, 6, 1, 0, 15), "0.015"))
    )
    assert (first.total, first.state.rounding_remainder) == (D("0.00"), D("0.0045"))
    second = price_readings(
        tariff,
        readings((DT(2024, 6, 1, 0, 15), "0.015"), (DT(2024, 6, 1, 0, 30), "0.030")),
        first.state,
    )
    assert (second.total, second.state.rounding_remainder) == (D("0.01"), D("-0.0010"))


def test_state_round_trips_through_a_dict_of_strings():
    state = PricingState(DT(2024, 6, 15), D("123.456"), D("10"), D("-0.0031"))
    data = state.to_dict()
    assert data == {
        "cycle_start": "2024-06-15T00:00:00",
        "cycle_quantity": "123.456",
        "allowance_used": "10",
        "rounding_remainder": "-0.0031",
    }
    assert PricingState.from_dict(data) == state
    assert PricingState.from_dict(PricingState().to_dict()) == PricingState()


def test_zero_consumption_books_nothing():
    tariff = make_tariff(tou_version(tiers=TIERS))
    result = price_readings(tariff, readings((DT(2024, 6, 4, 12), "5"), (DT(2024, 6, 4, 13), "5")))
    assert result.lines == ()
    assert result.total == D("0.00")


def test_a_single_reading_prices_nothing_and_keeps_the_counters():
    tariff = make_tariff(flat_version("0.50"))
    state = PricingState(DT(2024, 6, 1), D(7))
    result = price_readings(tariff, readings((DT(2024, 6, 4), "5")), state)
    assert result.lines == () and result.state == state


# --------------------------------------------------------------------------
# bad readings
# --------------------------------------------------------------------------


def test_unsorted_readings_are_refused():
    tariff = make_tariff(flat_version("0.50"))
    points = [(DT(2024, 6, 1, 1), "1"), (DT(2024, 6, 1, 0), "2")]
    with pytest.raises(
        ValidationError, match=r"reading #1 at .* is before the previous reading.*sorted"
    ):
        price_readings(tariff, readings(*points))


def test_duplicate_timestamps_are_refused():
    tariff = make_tariff(flat_version("0.50"))
    points = [(DT(2024, 6, 1), "1"), (DT(2024, 6, 1, 1), "2"), (DT(2024, 6, 1, 1), "2")]
    with pytest.raises(ValidationError, match="reading #2 .* duplicates the previous timestamp"):
        price_readings(tariff, readings(*points))


def test_negative_delta_is_refused():
    tariff = make_tariff(flat_version("0.50"))
    points = [(DT(2024, 6, 1), "10"), (DT(2024, 6, 1, 1), "9.5")]
    with pytest.raises(ValidationError, match="reading #1 .* went back by 0.5"):
        price_readings(tariff, readings(*points))


def test_unknown_band_in_a_reading_is_refused():
    tariff = make_tariff(tou_version())
    bad = [Reading(DT(2024, 6, 1), D(1)), Reading(DT(2024, 6, 1, 1), D(2), {"super-peak": D(1)})]
    with pytest.raises(ValidationError, match="reading #1 .* unknown band 'super-peak'"):
        price_readings(tariff, bad)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Reading(DT(2024, 6, 1, 1), 2.5), "must be a Decimal, int or str, not float"),
        (Reading(DT(2024, 6, 1, 1, tzinfo=datetime.timezone.utc), D(2)), "naive local datetime"),
        (Reading(DT(2024, 6, 1, 1), None), "needs a total register"),
        (Reading(DT(2024, 6, 1, 1), D("NaN")), "must be finite"),
        ((DT(2024, 6, 1, 1), D(2)), "is not a Reading"),
    ],
)
def test_malformed_readings_are_refused(bad, message):
    tariff = make_tariff(flat_version("0.50"))
    with pytest.raises(ValidationError, match=message):
        price_readings(tariff, [Reading(DT(2024, 6, 1), D(1)), bad])


def test_reading_before_the_first_version_is_refused():
    tariff = make_tariff(flat_version("0.50"))
    with pytest.raises(ValidationError, match="no version in force at 2023-12-31T23:00:00"):
        price_readings(tariff, readings((DT(2023, 12, 31, 23), "0"), (DT(2024, 1, 1, 1), "1")))


def test_reading_before_the_state_cycle_is_refused():
    tariff = make_tariff(flat_version("0.50"))
    state = PricingState(DT(2024, 6, 1), D(10))
    with pytest.raises(ValidationError, match="before the pricing state's cycle start"):
        price_readings(tariff, readings((DT(2024, 5, 31), "0"), (DT(2024, 6, 2), "1")), state)


def test_bad_multiplier_is_refused():
    tariff = make_tariff(flat_version("0.50"))
    with pytest.raises(ValidationError, match="multiplier must be positive"):
        price_readings(tariff, readings((DT(2024, 6, 1), "0")), multiplier=D(0))


# --------------------------------------------------------------------------
# bad tariffs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (flat_version("-0.10"), "price must not be negative: -0.10"),
        (flat_version(0.5), "must be a Decimal, int or str, not float"),
        (
            tou_version(prices={"peak": "0.9", "flat": "-0.6", "valley": "0.3"}),
            "price of 'flat' must not be negative",
        ),
        (tou_version(prices={**PRICES, "mega": "2"}), "unknown band 'mega'"),
        (
            tou_version(
                schedules={"workday": [("00:00", "12:00", "peak"), ("12:00", "24:00", "turbo")]}
            ),
            "unknown band 'turbo'",
        ),
        (
            tou_version(
                schedules={"workday": [("00:00", "13:00", "peak"), ("12:00", "24:00", "valley")]}
            ),
            "workday schedule: segments 00:00-13:00 peak and 12:00-24:00 valley overlap",
        ),
        (
            tou_version(
                schedules={"workday": [("00:00", "12:00", "peak"), ("13:00", "24:00", "valley")]}
            ),
            "workday schedule does not cover 12:00-13:00",
        ),
        (
            tou_version(
                schedules={"workday": [("23:00", "06:00", "valley"), ("07:00", "23:00", "peak")]}
            ),
            "does not cover 06:00-07:00",
        ),
        (tou_version(schedules={"workday": WORKDAY, "sunday": WORKDAY}), "unknown day types"),
        (
            tou_version(prices={"peak": "0.9", "valley": "0.3"}),
            "uses band 'flat' but the season gives it no price",
        ),
        (
            flat_version(
                "0.5",
                tiers=[
                    {"from": "0", "to": "200", "surcharge": "0"},
                    {"from": "150", "to": None, "surcharge": "0.05"},
                ],
            ),
            "tiers 1 and 2 overlap",
        ),
        (
            flat_version(
                "0.5",
                tiers=[
                    {"from": "0", "to": "200", "surcharge": "0"},
                    {"from": "250", "to": None, "surcharge": "0.05"},
                ],
            ),
            "gap between tier 1 .ends at 200. and tier 2 .starts at 250.",
        ),
        (
            flat_version("0.5", tiers=[{"from": "10", "to": None, "surcharge": "0"}]),
            "tier 1 must start at 0",
        ),
        (
            flat_version("0.5", tiers=[{"from": "0", "to": "200", "surcharge": "0"}]),
            "last tier must have no end",
        ),
        (
            flat_version("0.5", tiers=[{"from": "0", "to": None, "surcharge": "-0.1"}]),
            "surcharge must not be negative",
        ),
        (flat_version("0.5", allowance="-1"), "allowance must not be negative"),
        (flat_version("0.5", allowance="0.0000001"), "more than 6 decimal places"),
        (flat_version("0.5", tier=[]), "unknown keys: tier"),
        (
            {"effective_from": "2024-01-01", "kind": "stepped", "price": "1"},
            "kind must be one of flat, tou",
        ),
        (
            tou_version(
                schedules=None,
                prices=None,
                seasons=[
                    {
                        "name": "summer",
                        "start": "06-01",
                        "end": "09-30",
                        "schedules": {"workday": WORKDAY},
                        "prices": PRICES,
                    },
                    {
                        "name": "winter",
                        "start": "09-15",
                        "end": "05-31",
                        "schedules": {"workday": WORKDAY},
                        "prices": PRICES,
                    },
                ],
            ),
            "seasons 'summer' and 'winter' overlap",
        ),
    ],
)
def test_bad_versions_are_refused(version, message):
    version = {key: value for key, value in version.items() if value is not None}
    with pytest.raises(ValidationError, match=message):
        make_tariff(version)


def test_duplicate_effective_dates_are_refused():
    with pytest.raises(ValidationError, match="two versions effective from 2024-01-01T00:00:00"):
        make_tariff(flat_version("0.5"), flat_version("0.6"))


def test_versions_are_sorted_by_effective_date():
    later = {"effective_from": "2024-03-01", "kind": "flat", "price": "0.7"}
    tariff = make_tariff(later, flat_version("0.5"))
    assert [version.effective_from for version in tariff.versions] == [
        DT(2024, 1, 1),
        DT(2024, 3, 1),
    ]


# ------------------------------------------------------------------ lines cover what they priced


def band_readings(*points):
    """Readings with every band register: ``(when, sharp, peak, flat, valley)``."""
    result = []
    for when, *registers in points:
        bands = dict(zip(("sharp", "peak", "flat", "valley"), map(D, registers)))
        result.append(Reading(when, sum(bands.values()), bands))
    return result


def test_band_lines_never_stretch_over_slots_that_gave_them_nothing():
    # Half-hour readings with band registers, Tue 2024-06-04: peak is used
    # 16:30-17:00 only; from 17:00 to 01:30 only the valley register moves.
    # A part with no units must not extend the peak line: it ends at 17:00.
    points = [(DT(2024, 6, 4, 16, 30), 0, 10, 0, 5), (DT(2024, 6, 4, 17, 0), 0, 11, 0, 5)]
    moment, valley = DT(2024, 6, 4, 17, 0), 5
    while moment < DT(2024, 6, 5, 1, 30):
        moment += datetime.timedelta(minutes=30)
        valley += 1
        points.append((moment, 0, 11, 0, valley))
    result = price_readings(make_tariff(tou_version()), band_readings(*points))
    peak = [line for line in result.lines if line.band == "peak"]
    assert [(line.start, line.end, line.quantity) for line in peak] == [
        (DT(2024, 6, 4, 16, 30), DT(2024, 6, 4, 17, 0), D(1))
    ]
    valley_lines = [line for line in result.lines if line.band == "valley"]
    # valley units from 17:00 on, each half hour: one merged line, 17:00 -> 01:30
    assert [(line.start, line.end, line.quantity) for line in valley_lines] == [
        (DT(2024, 6, 4, 17, 0), DT(2024, 6, 5, 1, 30), D(17))
    ]


def test_allowance_pass_without_units_does_not_extend_the_paid_line():
    # Allowance used up: the free pass of each band part has no units and must
    # not move the end of the previous paid line before the paid units come.
    tariff = make_tariff(tou_version(allowance="1"))
    series = band_readings(
        (DT(2024, 6, 4, 16, 0), 0, 0, 0, 0),
        (DT(2024, 6, 4, 16, 30), 0, 2, 0, 0),  # 1 free, 1 paid peak
        (DT(2024, 6, 4, 17, 0), 0, 2, 0, 0),  # nothing
        (DT(2024, 6, 4, 17, 30), 0, 3, 0, 0),  # 1 paid peak
    )
    lines = [
        (line.start, line.end, line.free, line.quantity)
        for line in price_readings(tariff, series).lines
    ]
    assert lines == [
        (DT(2024, 6, 4, 16, 0), DT(2024, 6, 4, 16, 30), True, D(1)),
        (DT(2024, 6, 4, 16, 0), DT(2024, 6, 4, 16, 30), False, D(1)),
        (DT(2024, 6, 4, 17, 0), DT(2024, 6, 4, 17, 30), False, D(1)),
    ]


def test_total_register_lines_skip_idle_intervals_too():
    # flat tariff, 1 kWh, then an idle hour, then 1 kWh: two lines, not one
    # stretching over the idle hour
    series = readings(
        (DT(2024, 6, 4, 10, 0), "0"),
        (DT(2024, 6, 4, 10, 15), "1"),
        (DT(2024, 6, 4, 11, 15), "1"),
        (DT(2024, 6, 4, 11, 30), "2"),
    )
    result = price_readings(make_tariff(flat_version("0.50")), series)
    assert [(line.start, line.end) for line in result.lines] == [
        (DT(2024, 6, 4, 10, 0), DT(2024, 6, 4, 10, 15)),
        (DT(2024, 6, 4, 11, 15), DT(2024, 6, 4, 11, 30)),
    ]
    assert result.total == D("1.00")


def test_cuts_split_intervals_and_stop_lines():
    # 24 kWh from 2024-06-14 12:00 to 2024-06-15 12:00 on a flat tariff, cut at
    # 15 June midnight (not a cycle start): 12 kWh before, 12 after, two lines,
    # the same total and state.
    series = readings((DT(2024, 6, 14, 12), "0"), (DT(2024, 6, 15, 12), "24"))
    tariff = make_tariff(flat_version("0.50"))
    cut = DT(2024, 6, 15)
    whole = price_readings(tariff, series)
    split = price_readings(tariff, series, cuts=[cut])
    assert len(whole.lines) == 1
    assert [(line.start, line.end, line.quantity) for line in split.lines] == [
        (DT(2024, 6, 14, 12), cut, D(12)),
        (cut, DT(2024, 6, 15, 12), D(12)),
    ]
    assert (split.total, split.state) == (whole.total, whole.state)
    # a reading on the cut: contiguous lines of the same price are not merged across it
    on_cut = readings((DT(2024, 6, 14, 12), "0"), (cut, "12"), (DT(2024, 6, 15, 12), "24"))
    assert len(price_readings(tariff, on_cut).lines) == 1
    assert len(price_readings(tariff, on_cut, cuts=[cut]).lines) == 2
    with pytest.raises(ValidationError, match="naive local datetime"):
        price_readings(tariff, series, cuts=["2024-06-15"])
