"""Tenant self-service rules: run-out projection, chart series, rate limits,
notification events and quiet hours, the tenant's remote switch, top-up amounts."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaid_energy_core import selfservice as ss
from prepaid_energy_core.errors import ValidationError

D = Decimal
day = datetime.date
at = datetime.datetime


# --------------------------------------------------------------------------- run-out


def test_run_out_at_the_rate_of_the_priced_time():
    today = day(2025, 3, 15)
    # 140.00 spent over 14 days: 10.00 a day
    result = ss.projected_run_out(D("95.00"), D("140.00"), datetime.timedelta(days=14), today)
    assert result.daily_spend == D("10")
    assert result.days_left == 9  # 95 / 10 = 9.5: the 10th day is not fully covered
    assert result.date == day(2025, 3, 24)


def test_fees_weigh_the_days_their_period_shares_with_the_window():
    two_weeks = datetime.timedelta(days=14)
    first, last = day(2026, 11, 20), day(2026, 12, 3)  # 14 days
    november = (D("300.00"), day(2026, 11, 1), day(2026, 11, 30))  # 11 days in the window
    december = (D("310.00"), day(2026, 12, 1), day(2026, 12, 31))  # 3 days in the window
    september = (D("300.00"), day(2026, 9, 1), day(2026, 9, 30))  # a backlog posted today
    # 300 * 11/30 + 310 * 3/31 = 110 + 30 = 140 over the 14 days: 10.00 a day
    assert ss.fees_over([november, december, september], first, last, two_weeks) == D("140")
    # over 3 days of priced time, that rate weighs 30.00
    assert ss.fees_over([november, december], first, last, datetime.timedelta(days=3)) == D(30)


def test_one_off_fees_weigh_what_they_cost_and_no_fees_nothing():
    first, last = day(2026, 11, 20), day(2026, 12, 3)
    two_weeks = datetime.timedelta(days=14)
    assert ss.fees_over([(D("50.00"), None, None)], first, last, two_weeks) == D("50")
    assert ss.fees_over([], first, last, two_weeks) == 0


def test_run_out_with_fees_spread_over_their_month():
    today = day(2026, 12, 3)
    two_weeks = datetime.timedelta(days=14)
    # metered 140.00 in 14 days (10.00 a day) and 600.00 for a 30-day period that
    # covers the whole window (20.00 a day)
    fee = (D("600.00"), day(2026, 11, 15), day(2026, 12, 14))
    fees = ss.fees_over([fee], day(2026, 11, 20), today, two_weeks)
    result = ss.projected_run_out(D("300.00"), D("140.00") + fees, two_weeks, today)
    assert result.daily_spend == D("30")
    assert result.days_left == 10


def test_run_out_weighs_a_long_pricing_run_by_its_length():
    """One pricing run that booked three days at once is three days of spending."""
    today = day(2025, 3, 15)
    result = ss.projected_run_out(D("27.36"), D("27.36"), datetime.timedelta(hours=72), today)
    assert result.daily_spend == D("9.12")
    assert result.days_left == 3


def test_run_out_counts_fractions_of_days_exactly():
    covered = datetime.timedelta(days=1, hours=12)  # 1.5 days
    assert ss.days_of(covered) == D("1.5")
    result = ss.projected_run_out(D("100"), D("15"), covered, day(2025, 1, 1))
    assert (result.daily_spend, result.days_left) == (D("10"), 10)


def test_run_out_is_unknown_with_too_little_priced_time_or_no_spending():
    today = day(2025, 3, 15)
    assert ss.projected_run_out(D("50"), D("3"), datetime.timedelta(hours=23), today) is None
    assert ss.projected_run_out(D("50"), D("0"), datetime.timedelta(days=5), today) is None


def test_run_out_is_today_when_nothing_is_left():
    today = day(2025, 3, 15)
    result = ss.projected_run_out(D("-3.00"), D("7"), datetime.timedelta(days=2), today)
    assert (result.days_left, result.date) == (0, today)


def test_run_out_refuses_floats():
    with pytest.raises(ValidationError):
        ss.projected_run_out(12.5, D("1"), datetime.timedelta(days=2), day(2025, 1, 2))


# --------------------------------------------------------------------------- series


def test_daily_series_has_every_day_zero_filled_in_order():
    series = ss.daily_series({day(2025, 2, 27): D("3.5")}, day(2025, 3, 2), days=5)
    assert [d for d, _v in series] == [
        day(2025, 2, 26),
        day(2025, 2, 27),
        day(2025, 2, 28),
        day(2025, 3, 1),
        day(2025, 3, 2),
    ]
    assert [v for _d, v in series] == [0, D("3.5"), 0, 0, 0]


def test_monthly_series_crosses_the_year_end():
    values = {day(2024, 12, 1): D("100"), day(2025, 2, 1): D("80")}
    series = ss.monthly_series(values, day(2025, 2, 17), months=4)
    assert series == [
        (day(2024, 11, 1), 0),
        (day(2024, 12, 1), D("100")),
        (day(2025, 1, 1), 0),
        (day(2025, 2, 1), D("80")),
    ]


def test_add_months_both_ways():
    assert ss.add_months(day(2025, 1, 31), -1) == day(2024, 12, 1)
    assert ss.add_months(day(2025, 11, 5), 3) == day(2026, 2, 1)


def test_year_over_year_puts_january_first():
    values = {day(2025, 1, 1): D("5"), day(2024, 1, 1): D("7"), day(2024, 12, 1): D("9")}
    this_year, last_year = ss.year_over_year(values, 2025)
    assert len(this_year) == len(last_year) == 12
    assert this_year[0] == D("5") and last_year[0] == D("7") and last_year[11] == D("9")
    assert sum(this_year[1:]) == 0


# --------------------------------------------------------------------------- rate limits


def test_rate_limit_allows_up_to_the_limit_in_the_window():
    limit = ss.RateLimit(3, datetime.timedelta(hours=1))
    now = at(2025, 3, 1, 12, 0)
    attempts = [at(2025, 3, 1, 11, 10), at(2025, 3, 1, 11, 30)]
    assert limit.retry_at(attempts, now) is None
    attempts.append(at(2025, 3, 1, 11, 50))
    # the oldest of the last three leaves the window at 12:10
    assert limit.retry_at(attempts, now) == at(2025, 3, 1, 12, 10)
    assert limit.retry_at(attempts, at(2025, 3, 1, 12, 10)) is None


def test_rate_limit_ignores_old_and_future_attempts():
    limit = ss.RateLimit(1, datetime.timedelta(minutes=5))
    now = at(2025, 3, 1, 12, 0)
    assert limit.retry_at([at(2025, 3, 1, 11, 55), at(2025, 3, 1, 12, 1)], now) is None


def test_rate_limit_refuses_nonsense():
    with pytest.raises(ValidationError):
        ss.RateLimit(0, datetime.timedelta(minutes=1))
    with pytest.raises(ValidationError):
        ss.RateLimit(2, datetime.timedelta(0))


@given(
    st.lists(st.integers(min_value=0, max_value=600), max_size=30),
    st.integers(min_value=1, max_value=5),
)
def test_rate_limit_never_lets_more_than_limit_through_any_window(offsets, limit_count):
    """Accepting every attempt the limiter allows never puts more than ``limit``
    accepted attempts in any window."""
    limit = ss.RateLimit(limit_count, datetime.timedelta(seconds=60))
    start = at(2025, 1, 1)
    accepted = []
    for offset in sorted(offsets):
        now = start + datetime.timedelta(seconds=offset)
        if limit.retry_at(accepted, now) is None:
            accepted.append(now)
    for moment in accepted:
        in_window = [a for a in accepted if moment - limit.window < a <= moment]
        assert len(in_window) <= limit_count


# --------------------------------------------------------------------------- events


def test_power_event_is_told_once_per_trip_and_once_per_restore():
    assert ss.power_event(None, "normal") == (None, ss.POWER_ON)
    assert ss.power_event(ss.POWER_ON, "tripped") == ("tripped", ss.POWER_OFF)
    assert ss.power_event(ss.POWER_OFF, "tripped") == (None, ss.POWER_OFF)
    assert ss.power_event(ss.POWER_OFF, "alarm1") == ("restored", ss.POWER_ON)
    assert ss.power_event(ss.POWER_ON, "alarm2") == (None, ss.POWER_ON)


def test_offline_keeps_the_last_known_power():
    # tripped, offline, back tripped: one trip; back normal: restored
    assert ss.power_event(ss.POWER_OFF, "offline") == (None, ss.POWER_OFF)
    assert ss.power_event(ss.POWER_OFF, "tripped") == (None, ss.POWER_OFF)
    assert ss.power_event(ss.POWER_OFF, "normal") == ("restored", ss.POWER_ON)
    assert ss.power_event(ss.POWER_ON, "not_opened") == (None, None)


def test_a_meter_first_seen_tripped_is_a_trip():
    assert ss.power_event(None, "tripped") == ("tripped", ss.POWER_OFF)


def test_events_have_labels():
    assert [event for event, _label in ss.EVENT_LABELS] == list(ss.EVENTS)


# --------------------------------------------------------------------------- quiet hours


def test_quiet_hours_across_midnight():
    start, end = datetime.time(22), datetime.time(7)
    assert ss.quiet_until(at(2025, 3, 1, 23, 15), start, end) == at(2025, 3, 2, 7)
    assert ss.quiet_until(at(2025, 3, 2, 6, 59), start, end) == at(2025, 3, 2, 7)
    assert ss.quiet_until(at(2025, 3, 2, 7, 0), start, end) is None
    assert ss.quiet_until(at(2025, 3, 2, 21, 59), start, end) is None
    assert ss.quiet_until(at(2025, 3, 2, 22, 0), start, end) == at(2025, 3, 3, 7)


def test_quiet_hours_within_a_day_and_none():
    start, end = datetime.time(13), datetime.time(14, 30)
    assert ss.quiet_until(at(2025, 3, 1, 13, 45), start, end) == at(2025, 3, 1, 14, 30)
    assert ss.quiet_until(at(2025, 3, 1, 12, 0), start, end) is None
    assert ss.quiet_until(at(2025, 3, 1, 3), datetime.time(0), datetime.time(0)) is None


def test_hours_to_time():
    assert ss.hours_to_time(22.5) == datetime.time(22, 30)
    assert ss.hours_to_time(24) == datetime.time(0)
    assert ss.hours_to_time(7.25) == datetime.time(7, 15)
    with pytest.raises(ValidationError):
        ss.hours_to_time(25)


# --------------------------------------------------------------------------- switch


def _switch(action, **facts):
    values = {
        "supply_on": True,
        "keep_power": False,
        "in_arrears": False,
        "opened_by_tenant": False,
    }
    values.update(facts)
    return ss.check_tenant_switch(action, **values)


def test_tenant_switches_off_and_back_on():
    assert _switch("off") is None
    assert _switch("on", supply_on=False, opened_by_tenant=True) is None


def test_tenant_switch_never_overrides_keep_power_arrears_or_staff():
    assert _switch("off", keep_power=True).code == "switch.keep_power"
    refusal = _switch("on", supply_on=False, opened_by_tenant=False, open_reason="manual")
    assert refusal.code == "switch.not_yours" and refusal.params == {"reason": "manual"}
    assert _switch("on", supply_on=False, opened_by_tenant=False, open_reason="arrears").code == (
        "switch.not_yours"
    )
    refusal = _switch("on", supply_on=False, opened_by_tenant=False, open_reason="fees")
    assert refusal.code == "switch.fees_overdue"
    # switched off by the tenant, then the wallet ran into arrears: stays off
    refusal = _switch("on", supply_on=False, opened_by_tenant=True, in_arrears=True)
    assert refusal.code == "switch.in_arrears"


def test_tenant_switch_needs_a_known_state_and_a_change():
    assert _switch("off", supply_on=None).code == "switch.state_unknown"
    assert _switch("off", supply_on=False).code == "switch.already_off"
    assert _switch("on").code == "switch.already_on"
    with pytest.raises(ValidationError):
        _switch("toggle")


# --------------------------------------------------------------------------- top-up


def test_parse_presets():
    assert ss.parse_presets("100, 50;200, 50 ,") == (D("50"), D("100"), D("200"))
    assert ss.parse_presets("") == ()
    assert ss.parse_presets(None) == ()
    with pytest.raises(ValidationError):
        ss.parse_presets("50, -10")
    with pytest.raises(ValidationError):
        ss.parse_presets("50, ten")


def test_check_topup_bounds_and_room():
    assert ss.check_topup(D("50"), minimum=10, maximum=500) is None
    assert ss.check_topup(D("0")).code == "topup.not_positive"
    assert ss.check_topup(D("5"), minimum=D("10")).code == "topup.below_minimum"
    assert ss.check_topup(D("600"), maximum=D("500")).code == "topup.above_maximum"
    refusal = ss.check_topup(D("300"), balance=D("850"), max_balance=D("1000"))
    assert refusal.code == "topup.above_max_balance"
    assert refusal.params["room"] == D("150")
    assert ss.check_topup(D("150"), balance=D("850"), max_balance=D("1000")) is None
    # already above the cap (a cashier sold more): no room, never negative
    assert ss.check_topup(D("1"), balance=D("1200"), max_balance=D("1000")).params["room"] == 0


def test_check_topup_without_bounds_takes_any_positive_amount():
    assert ss.check_topup(D("0.01")) is None
    assert ss.check_topup(D("99999"), minimum=0, maximum=0) is None
