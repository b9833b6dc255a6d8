"""Supply schedules (time control), why a relay is open, and the decision around the policy."""

import datetime
from decimal import Decimal

import pytest

from prepaid_energy_core import policy, supply
from prepaid_energy_core.calendar import HolidayCalendar
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.wallet import Thresholds

T = datetime.time
# 2025-10-01 is a Wednesday and, in this calendar, a public holiday
CALENDAR = HolidayCalendar(holidays=[datetime.date(2025, 10, 1)])
LIGHTS_OUT = supply.SupplySchedule(
    "Dormitory lights-out",
    [
        supply.OffPeriod("workday", T(23, 30), T(6, 0)),
        supply.OffPeriod("weekend", T(1, 0), T(6, 0)),
    ],
    datetime.date(2025, 9, 1),
    datetime.date(2026, 1, 31),
    CALENDAR,
)


def at(*args):
    return datetime.datetime(*args)


@pytest.mark.parametrize(
    ("moment", "on"),
    [
        (at(2025, 9, 2, 23, 29), True),  # Tuesday evening, before lights-out
        (at(2025, 9, 2, 23, 30), False),
        (at(2025, 9, 3, 5, 59), False),  # the night crosses midnight
        (at(2025, 9, 3, 6, 0), True),
        (at(2025, 9, 6, 0, 30), False),  # Friday's period runs into Saturday morning
        (at(2025, 9, 6, 0, 59, 59), False),
        (at(2025, 9, 6, 3, 0), False),  # Saturday's own 01:00-06:00
        (at(2025, 9, 6, 23, 45), True),  # Saturday evening: no workday period
        (at(2025, 10, 1, 23, 45), True),  # a holiday: full supply
        (at(2025, 8, 29, 23, 45), True),  # before the schedule starts
        (at(2026, 2, 2, 23, 45), True),  # after it ends
    ],
)
def test_supply_on_by_day_type_time_and_dates(moment, on):
    assert LIGHTS_OUT.supply_on(moment) is on


def test_schedule_checks_its_input():
    with pytest.raises(ValidationError, match="empty"):
        supply.OffPeriod("workday", T(1, 0), T(1, 0))
    with pytest.raises(ValidationError, match="day type"):
        supply.OffPeriod("friday", T(1, 0), T(2, 0))
    with pytest.raises(ValidationError, match="ends before"):
        supply.SupplySchedule("x", [], datetime.date(2025, 2, 1), datetime.date(2025, 1, 1))


def test_first_schedule_that_says_off_wins():
    other = supply.SupplySchedule(
        "Maintenance", [supply.OffPeriod("weekend", T(9, 0), T(12, 0))], datetime.date(2025, 1, 1)
    )
    assert supply.supply_on([LIGHTS_OUT, other], at(2025, 9, 6, 10, 0)) == (False, other)
    assert supply.supply_on([LIGHTS_OUT, other], at(2025, 9, 6, 13, 0)) == (True, None)


def inputs(**values):
    base = {
        "balance": Decimal("10"),
        "thresholds": Thresholds(alarm1=None, alarm2=None, arrears=Decimal("0")),
        "now": at(2025, 9, 2, 23, 45),
    }
    return policy.PolicyInputs(**{**base, **values})


def test_schedule_off_trips_a_closed_relay_unless_keep_power_or_protected():
    decision = supply.decide(inputs(), False, "Lights-out")
    assert (decision.action, decision.code) == (policy.TRIP, supply.SCHEDULE_OFF)
    assert "Lights-out" in decision.reason
    assert supply.decide(inputs(keep_power=True), False, "L").code == supply.SCHEDULE_KEEP_POWER
    assert supply.decide(inputs(protected_tenant=True), False, "L").code == policy.PROTECTED_TENANT


def test_schedule_on_closes_what_it_opened_unless_in_arrears():
    opened = {"relay": policy.RELAY_OPEN}
    by_schedule = {"opened_by_schedule": True}
    assert supply.policy_open_reason(supply.OPEN_SCHEDULE) is None
    still = supply.decide(inputs(**opened), False, "L", **by_schedule)
    assert (still.action, still.code) == (policy.NONE, supply.SCHEDULE_STILL_OFF)
    back = supply.decide(inputs(**opened), True, None, **by_schedule)
    assert (back.action, back.code) == (policy.CLOSE, supply.SCHEDULE_ON)
    broke = supply.decide(inputs(balance=Decimal("-1"), **opened), True, None, **by_schedule)
    assert (broke.action, broke.code) == (policy.NONE, supply.SCHEDULE_IN_ARREARS)
    assert supply.REASON_CHANGES[broke.code] == policy.OPEN_ARREARS


def test_schedule_on_keeps_open_for_overdue_fees():
    opened = {"relay": policy.RELAY_OPEN, "fees_overdue": True}
    by_schedule = {"opened_by_schedule": True}
    # balance 10.00 above the 0.00 floor, but the fees are overdue: no close then trip
    due = supply.decide(inputs(**opened), True, None, **by_schedule)
    assert (due.action, due.code) == (policy.NONE, supply.SCHEDULE_FEES_DUE)
    assert supply.REASON_CHANGES[due.code] == policy.OPEN_FEES
    # in arrears too: open for arrears (the wallet's trip comes first, as when closed)
    both = supply.decide(inputs(balance=Decimal("-1"), **opened), True, None, **by_schedule)
    assert both.code == supply.SCHEDULE_IN_ARREARS
    # keep-power closes it whatever is due
    keep = supply.decide(inputs(keep_power=True, **opened), True, None, **by_schedule)
    assert keep.code == supply.SCHEDULE_ON


def test_relay_open_for_fees_is_not_closed_by_a_schedule():
    open_for_fees = {"relay": policy.RELAY_OPEN, "open_reason": policy.OPEN_FEES}
    for supply_is_on in (True, False):
        still = supply.decide(inputs(fees_overdue=True, **open_for_fees), supply_is_on, "L")
        assert (still.action, still.code) == (policy.NONE, policy.STILL_FEES_DUE)
    paid = supply.decide(inputs(**open_for_fees), True, None)
    assert (paid.action, paid.code) == (policy.CLOSE, policy.FEES_CLEARED)


def test_fees_trip_is_remembered_as_fees():
    decision = supply.decide(inputs(fees_overdue=True), True)
    assert decision.code == policy.FEES_TRIP
    assert supply.TRIP_REASONS[decision.code] == policy.OPEN_FEES
    assert supply.REASON_CHANGES[policy.STILL_IN_ARREARS] == policy.OPEN_ARREARS
    assert supply.policy_open_reason(policy.OPEN_FEES) == policy.OPEN_FEES
    assert dict(supply.OPEN_REASON_LABELS)[policy.OPEN_FEES] == "Fees overdue"
    # a schedule's off time trips a closed relay for the schedule, fees or not
    off = supply.decide(inputs(fees_overdue=True), False, "Lights-out")
    assert off.code == supply.SCHEDULE_OFF


def test_without_schedule_the_core_policy_decides():
    assert supply.decide(inputs(balance=Decimal("-1")), True).code == policy.ARREARS_TRIP
    assert supply.decide(inputs(), True).code == policy.BALANCE_OK


def test_open_reason_follows_what_the_head_end_knows():
    assert supply.open_reason_after("arrears", relay_closed=True) is None
    assert supply.open_reason_after(None, False, commanded_reason="manual") == "manual"
    assert supply.open_reason_after("schedule", False) == "schedule"
    assert supply.open_reason_after(None, False, protection_trips=True) == policy.OPEN_OVERLOAD
    assert supply.open_reason_after(None, False, meter_bills_itself=True) == policy.OPEN_ARREARS
    assert supply.open_reason_after(None, False) is None  # unknown: staff decide
