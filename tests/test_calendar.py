"""Day types, seasons and billing cycles of prepaid_energy_core.calendar."""

import datetime

import pytest

from prepaid_energy_core.calendar import (
    HOLIDAY,
    WEEKEND,
    WORKDAY,
    BillingCycle,
    HolidayCalendar,
    SeasonMap,
    next_period_start,
    period_start,
    period_starts_between,
    to_local,
    to_utc,
    zone,
)
from prepaid_energy_core.errors import ValidationError

D = datetime.date
DT = datetime.datetime

# China 2024 National Day: 1-7 Oct off, Sunday 29 Sep and Saturday 12 Oct worked
# (State Council notice of 2023-10-25 on the 2024 holiday arrangements).
NATIONAL_DAY_2024 = {
    "holidays": [f"2024-10-0{day}" for day in range(1, 8)],
    "workdays": ["2024-09-29", "2024-10-12"],
}


def test_day_types_follow_holidays_then_make_up_days_then_weekday():
    calendar = HolidayCalendar.from_dict(NATIONAL_DAY_2024)
    assert calendar.day_type(D(2024, 9, 27)) == WORKDAY  # Friday
    assert calendar.day_type(D(2024, 9, 28)) == WEEKEND  # Saturday
    assert calendar.day_type(D(2024, 9, 29)) == WORKDAY  # Sunday, made up
    assert calendar.day_type(D(2024, 10, 1)) == HOLIDAY  # Tuesday, National Day
    assert calendar.day_type(D(2024, 10, 5)) == HOLIDAY  # Saturday inside the holiday
    assert calendar.day_type(D(2024, 10, 12)) == WORKDAY  # Saturday, made up
    assert calendar.day_type(D(2024, 10, 13)) == WEEKEND  # Sunday


def test_weekend_days_are_configurable():
    calendar = HolidayCalendar(weekend=(4, 5))  # Friday and Saturday
    assert calendar.day_type(D(2024, 9, 27)) == WEEKEND  # Friday
    assert calendar.day_type(D(2024, 9, 29)) == WORKDAY  # Sunday


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"holidays": ["2024-10-01"], "workdays": ["2024-10-01"]}, "both as a holiday"),
        ({"workdays": ["2024-10-08"]}, "is a Tuesday, not a weekend day"),
        ({"holidays": ["2024-13-01"]}, "not a date"),
        ({"weekend": [7]}, "weekday numbers"),
        ({"holiday": ["2024-10-01"]}, "unknown keys: holiday"),
    ],
)
def test_bad_calendars_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        HolidayCalendar.from_dict(data)


def test_seasons_wrap_the_year_end_and_29_february_follows_28_february():
    seasons = SeasonMap(
        [("summer", "06-01", "09-30"), ("winter", "10-01", "02-28"), ("spring", "03-01", "05-31")]
    )
    assert seasons.name(D(2024, 12, 31)) == "winter"
    assert seasons.name(D(2025, 1, 1)) == "winter"
    assert seasons.name(D(2024, 2, 29)) == "winter"
    assert seasons.name(D(2024, 3, 1)) == "spring"
    assert seasons.name(D(2024, 9, 30)) == "summer"
    assert seasons.name(D(2024, 10, 1)) == "winter"


def test_overlapping_seasons_are_refused():
    with pytest.raises(ValidationError, match="'summer' and 'autumn' overlap.*09-01"):
        SeasonMap([("summer", "06-01", "09-01"), ("autumn", "09-01", "05-31")])


def test_a_gap_between_seasons_is_refused():
    with pytest.raises(ValidationError, match="06-01..06-30 belongs to no season"):
        SeasonMap([("summer", "07-01", "09-30"), ("rest", "10-01", "05-31")])


def test_monthly_cycle_on_the_31st_uses_the_last_day_of_short_months():
    cycle = BillingCycle("monthly", start_day=31)
    assert cycle.start_of(DT(2024, 2, 29, 10)) == DT(2024, 2, 29)
    assert cycle.start_of(DT(2024, 2, 28, 23, 59)) == DT(2024, 1, 31)
    assert cycle.next_start(DT(2024, 1, 31)) == DT(2024, 2, 29)
    assert cycle.next_start(DT(2024, 2, 29)) == DT(2024, 3, 31)
    assert cycle.next_start(DT(2024, 3, 31)) == DT(2024, 4, 30)
    assert cycle.next_start(DT(2023, 12, 31)) == DT(2024, 1, 31)


def test_monthly_cycle_on_the_15th():
    cycle = BillingCycle.from_dict({"period": "monthly", "start_day": 15})
    assert cycle.start_of(DT(2024, 1, 10)) == DT(2023, 12, 15)
    assert cycle.start_of(DT(2024, 1, 15)) == DT(2024, 1, 15)
    assert cycle.next_start(DT(2023, 12, 15)) == DT(2024, 1, 15)


def test_yearly_cycle_with_start_day():
    cycle = BillingCycle.from_dict({"period": "yearly", "start_month": 7, "start_day": 15})
    assert cycle.start_of(DT(2024, 7, 14, 23)) == DT(2023, 7, 15)
    assert cycle.start_of(DT(2024, 7, 15)) == DT(2024, 7, 15)
    assert cycle.next_start(DT(2023, 7, 15)) == DT(2024, 7, 15)
    leap = BillingCycle("yearly", start_day=29, start_month=2)
    assert leap.start_of(DT(2025, 3, 1)) == DT(2025, 2, 28)
    assert leap.next_start(DT(2024, 2, 29)) == DT(2025, 2, 28)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "weekly"}, "period must be one of"),
        ({"start_day": 0}, "start day must be an integer 1..31"),
        ({"period": "yearly", "start_month": 4, "start_day": 31}, "month 4 has no day 31"),
        ({"start": 1}, "unknown keys: start"),
    ],
)
def test_bad_cycles_are_refused(data, message):
    with pytest.raises(ValidationError, match=message):
        BillingCycle.from_dict(data)


# --------------------------------------------------------------------------- invoicing periods


@pytest.mark.parametrize(
    ("day", "period", "start", "following"),
    [
        (D(2025, 2, 14), "monthly", D(2025, 2, 1), D(2025, 3, 1)),
        (D(2025, 12, 31), "monthly", D(2025, 12, 1), D(2026, 1, 1)),
        (D(2025, 2, 14), "quarterly", D(2025, 1, 1), D(2025, 4, 1)),
        (D(2025, 12, 31), "quarterly", D(2025, 10, 1), D(2026, 1, 1)),
    ],
)
def test_invoicing_periods(day, period, start, following):
    assert period_start(day, period) == start
    assert next_period_start(start, period) == following


def test_period_starts_between_are_the_cuts_of_a_run():
    cuts = period_starts_between(DT(2025, 1, 31, 23), DT(2025, 4, 1), "monthly")
    assert cuts == [DT(2025, 2, 1), DT(2025, 3, 1), DT(2025, 4, 1)]
    # a run starting on a boundary is not cut there
    assert period_starts_between(DT(2025, 2, 1), DT(2025, 2, 20), "monthly") == []
    assert period_starts_between(DT(2025, 2, 1), DT(2025, 9, 1), "quarterly") == [
        DT(2025, 4, 1),
        DT(2025, 7, 1),
    ]
    with pytest.raises(ValidationError, match="invoicing period must be one of"):
        period_start(D(2025, 1, 1), "weekly")


def test_zone_conversions():
    # Shanghai is UTC+8; New York changes to summer time on 9 March 2025 at 02:00
    assert to_local(DT(2025, 1, 31, 16), "Asia/Shanghai") == DT(2025, 2, 1)
    assert to_utc(DT(2025, 2, 1), "Asia/Shanghai") == DT(2025, 1, 31, 16)
    assert to_utc(DT(2025, 3, 9, 3), "America/New_York") == DT(2025, 3, 9, 7)
    # 02:30 does not exist that night: read with the offset before the change
    assert to_utc(DT(2025, 3, 9, 2, 30), "America/New_York") == DT(2025, 3, 9, 7, 30)
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
