"""Disconnection policy: precedence, reasons, codes and safety properties."""

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core import policy
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.policy import PolicyInputs, decide, in_quiet_hours, is_no_cut_day
from prepaid_energy_core.wallet import Credit, Thresholds, disconnect_floor

THRESHOLDS = Thresholds(alarm1=D("20"), alarm2=D("5"), arrears=D("0"))
# Monday 2026-01-05 14:00
MONDAY_2PM = dt.datetime(2026, 1, 5, 14, 0)
NIGHT = ((dt.time(22, 0), dt.time(6, 0)),)


def inputs(**changes):
    base = PolicyInputs(
        balance=D("-3.20"),
        thresholds=THRESHOLDS,
        now=MONDAY_2PM,
        arrears_since=dt.datetime(2026, 1, 5, 10, 0),
        grace_period=dt.timedelta(hours=2),
    )
    return dataclasses.replace(base, **changes)


# --------------------------------------------------------------------------- closed relay


def test_trip_after_grace_with_readable_reason():
    decision = decide(inputs())
    # arrears since 10:00 + 2 h grace = 12:00 < now 14:00: trip
    assert decision.action == "trip"
    assert decision.code == policy.ARREARS_TRIP
    assert decision.reason == (
        "balance -3.20 below arrears 0.00 since 2026-01-05 10:00, grace 2 h over: trip"
    )


def test_no_trip_with_positive_balance():
    decision = decide(inputs(balance=D("0.01")))
    assert (decision.action, decision.code) == ("none", policy.BALANCE_OK)
    assert "balance 0.01 above disconnection floor 0.00" in decision.reason


def test_zero_balance_is_arrears():
    decision = decide(inputs(balance=D("0")))
    assert decision.action == "trip"
    assert decision.reason.startswith("balance 0.00 at arrears 0.00")


def test_credit_limit_and_emergency_credit_delay_the_trip():
    credit = Credit(credit_limit=D("50"), emergency_amount=D("20"), emergency_active=True)
    # floor = 0 - 50 - 20 = -70: -60 is above it
    assert decide(inputs(balance=D("-60"), credit=credit)).code == policy.BALANCE_OK
    decision = decide(inputs(balance=D("-70.50"), credit=credit))
    assert decision.action == "trip"
    assert (
        "below arrears 0.00 less credit limit 50.00 and emergency credit 20.00 (floor -70.00)"
        in decision.reason
    )


def test_grace_period_postpones():
    # arrears since 13:00 + 2 h = 15:00 > now 14:00
    decision = decide(inputs(arrears_since=dt.datetime(2026, 1, 5, 13, 0)))
    assert (decision.action, decision.code) == ("none", policy.GRACE_PERIOD)
    assert "grace 2 h runs until 2026-01-05 15:00" in decision.reason


def test_missing_arrears_since_starts_grace_now():
    assert decide(inputs(arrears_since=None)).code == policy.GRACE_PERIOD
    no_grace = inputs(arrears_since=None, grace_period=dt.timedelta(0))
    assert decide(no_grace).action == "trip"


def test_keep_power_and_protected_tenant_never_trip():
    assert decide(inputs(keep_power=True)).code == policy.KEEP_POWER
    assert decide(inputs(protected_tenant=True)).code == policy.PROTECTED_TENANT
    # keep-power is checked before protection
    both = decide(inputs(keep_power=True, protected_tenant=True))
    assert (both.action, both.code) == ("none", policy.KEEP_POWER)


def test_quiet_hours_postpone_including_across_midnight():
    at_2330 = dt.datetime(2026, 1, 5, 23, 30)
    at_0530 = dt.datetime(2026, 1, 6, 5, 30)
    at_0600 = dt.datetime(2026, 1, 6, 6, 0)  # end is outside the range
    assert decide(inputs(now=at_2330, quiet_hours=NIGHT)).code == policy.QUIET_HOURS
    assert decide(inputs(now=at_0530, quiet_hours=NIGHT)).code == policy.QUIET_HOURS
    assert decide(inputs(now=at_0600, quiet_hours=NIGHT)).action == "trip"
    lunch = ((dt.time(12, 0), dt.time(14, 30)),)
    assert decide(inputs(quiet_hours=lunch)).code == policy.QUIET_HOURS


def test_no_cut_days_postpone():
    holiday = decide(inputs(no_cut_dates={dt.date(2026, 1, 5)}))
    assert holiday.code == policy.NO_CUT_DAY
    assert "2026-01-05 is a no-cut day" in holiday.reason
    saturday = dt.datetime(2026, 1, 10, 14, 0)
    assert decide(inputs(now=saturday)).action == "trip"
    assert decide(inputs(now=saturday, no_cut_weekends=True)).code == policy.NO_CUT_DAY


def test_grace_reported_before_quiet_hours():
    # both apply; the grace period is the first reason
    decision = decide(inputs(arrears_since=MONDAY_2PM, quiet_hours=((dt.time(13), dt.time(15)),)))
    assert decision.code == policy.GRACE_PERIOD


def test_unknown_relay_without_reason_is_tripped_when_due():
    assert decide(inputs(relay="unknown")).action == "trip"


# --------------------------------------------------------------------------- open relay


def test_recharge_closes_relay_tripped_for_arrears():
    decision = decide(inputs(relay="open", open_reason="arrears", balance=D("12.00")))
    assert (decision.action, decision.code) == ("close", policy.CREDIT_RESTORED)
    # closing is not postponed by quiet hours or holidays
    night = dt.datetime(2026, 1, 5, 23, 0)
    late = inputs(
        relay="open",
        open_reason="arrears",
        balance=D("1"),
        now=night,
        quiet_hours=NIGHT,
        no_cut_dates={night.date()},
    )
    assert decide(late).action == "close"


def test_relay_open_for_arrears_stays_open_while_in_arrears():
    decision = decide(inputs(relay="open", open_reason="arrears"))
    assert (decision.action, decision.code) == ("none", policy.STILL_IN_ARREARS)


def test_emergency_credit_closes_relay_tripped_for_arrears():
    credit = Credit(emergency_amount=D("10"), emergency_active=True)
    # floor = 0 - 10 = -10 < -3.20
    decision = decide(inputs(relay="open", open_reason="arrears", credit=credit))
    assert decision.code == policy.CREDIT_RESTORED


def test_keep_power_or_protection_closes_arrears_trip():
    assert decide(inputs(relay="open", open_reason="arrears", keep_power=True)).code == (
        policy.KEEP_POWER_CLOSE
    )
    assert decide(inputs(relay="open", open_reason="arrears", protected_tenant=True)).code == (
        policy.PROTECTED_TENANT_CLOSE
    )


def test_manual_trip_stays_whatever_the_balance():
    for relay in ("open", "unknown"):
        decision = decide(
            inputs(relay=relay, open_reason="manual", balance=D("500"), keep_power=True)
        )
        assert (decision.action, decision.code) == ("none", policy.MANUAL_TRIP_STAYS)


def test_open_relay_without_reason_is_left_alone():
    decision = decide(inputs(relay="open", balance=D("100")))
    assert (decision.action, decision.code) == ("none", policy.OPEN_REASON_UNKNOWN)


def overload(trips, now, **changes):
    settings_ = {
        "relay": "open",
        "open_reason": "overload",
        "balance": D("50"),
        "now": now,
        "arrears_since": None,
        "overload_trips": trips,
        "overload_reconnect_after": dt.timedelta(minutes=10),
        "overload_max_reconnects_per_day": 2,
    }
    return inputs(**{**settings_, **changes})


def test_overload_reconnects_after_delay():
    trip = dt.datetime(2026, 1, 5, 9, 0)
    waiting = decide(overload([trip], dt.datetime(2026, 1, 5, 9, 9)))
    assert (waiting.action, waiting.code) == ("none", policy.OVERLOAD_WAITING)
    assert "automatic reconnect at 2026-01-05 09:10" in waiting.reason
    # 09:00 + 10 min = 09:10: reconnect exactly then
    ready = decide(overload([trip], dt.datetime(2026, 1, 5, 9, 10)))
    assert (ready.action, ready.code) == ("close", policy.OVERLOAD_RECONNECT)


def test_overload_cap_makes_reconnect_manual_only():
    trips = [dt.datetime(2026, 1, 5, 9, 0), dt.datetime(2026, 1, 5, 10, 0)]
    later = dt.datetime(2026, 1, 5, 12, 0)
    # 2 trips that day, cap 2: the second is still reconnected automatically
    assert decide(overload(trips, later)).action == "close"
    # the third trip that day is over the cap
    third = [*trips, dt.datetime(2026, 1, 5, 11, 0)]
    capped = decide(overload(third, later))
    assert (capped.action, capped.code) == ("none", policy.OVERLOAD_CAP_REACHED)
    assert "3 overload trips on 2026-01-05" in capped.reason
    # the count is per calendar day of the latest trip: a new day starts afresh
    next_day = [*third, dt.datetime(2026, 1, 6, 8, 0)]
    assert decide(overload(next_day, dt.datetime(2026, 1, 6, 9, 0))).action == "close"


def test_overload_in_arrears_is_not_reconnected():
    trip = dt.datetime(2026, 1, 5, 9, 0)
    since_10 = dt.datetime(2026, 1, 5, 10, 0)
    # in arrears since 10:00, grace 2 h over at 14:00: a closed relay would trip
    decision = decide(overload([trip], MONDAY_2PM, balance=D("-3.20"), arrears_since=since_10))
    assert decision.code == policy.OVERLOAD_IN_ARREARS
    # still inside the grace period (since 13:00 + 2 h = 15:00): power is still owed
    since_13 = dt.datetime(2026, 1, 5, 13, 0)
    in_grace = decide(overload([trip], MONDAY_2PM, balance=D("-3.20"), arrears_since=since_13))
    assert in_grace.code == policy.OVERLOAD_RECONNECT
    # with keep-power the arrears do not matter: reconnect
    keep = overload([trip], MONDAY_2PM, balance=D("-3.20"), arrears_since=since_10, keep_power=True)
    assert decide(keep).action == "close"


# --------------------------------------------------------------------------- overdue fees


def fees(**changes):
    """A wallet in credit (10.00 above the 0.00 floor) whose fee invoices are overdue."""
    return inputs(**{"balance": D("10"), "arrears_since": None, "fees_overdue": True, **changes})


def test_fees_default_to_not_overdue():
    plain = PolicyInputs(balance=D("10"), thresholds=THRESHOLDS, now=MONDAY_2PM)
    assert plain.fees_overdue is False
    assert decide(inputs(balance=D("10"))).code == policy.BALANCE_OK


def test_overdue_fees_trip_a_wallet_in_credit():
    decision = decide(fees())
    assert (decision.action, decision.code) == ("trip", policy.FEES_TRIP)
    assert decision.reason == "fee invoices overdue: trip"
    # not due: the balance alone decides, as before
    assert decide(fees(fees_overdue=False)).code == policy.BALANCE_OK


def test_fees_trip_has_the_arrears_guards_but_not_the_arrears_grace():
    assert decide(fees(keep_power=True)).code == policy.KEEP_POWER
    assert decide(fees(protected_tenant=True)).code == policy.PROTECTED_TENANT
    # 14:00 is inside 13:00-15:00
    quiet = decide(fees(quiet_hours=((dt.time(13), dt.time(15)),)))
    assert (quiet.action, quiet.code) == ("none", policy.QUIET_HOURS)
    assert quiet.reason == "fee invoices overdue, trip postponed: quiet hours at 14:00"
    assert decide(fees(no_cut_dates={dt.date(2026, 1, 5)})).code == policy.NO_CUT_DAY
    # 2026-01-10 is a Saturday
    saturday = fees(now=dt.datetime(2026, 1, 10, 14, 0), no_cut_weekends=True)
    assert decide(saturday).code == policy.NO_CUT_DAY
    # the 2 h grace runs from arrears_since (the wallet's); fees had their own grace days
    assert decide(fees(grace_period=dt.timedelta(hours=48))).code == policy.FEES_TRIP


def test_in_arrears_and_fees_due_trips_for_arrears_or_for_fees_in_the_grace():
    both = fees(balance=D("-3.20"), arrears_since=dt.datetime(2026, 1, 5, 10, 0))
    # arrears since 10:00 + 2 h = 12:00 < 14:00: the arrears trip wins
    assert decide(both).code == policy.ARREARS_TRIP
    # arrears since 13:00 + 2 h = 15:00 > 14:00: the wallet's grace, but the fees trip
    in_grace = dataclasses.replace(both, arrears_since=dt.datetime(2026, 1, 5, 13, 0))
    assert decide(in_grace).code == policy.FEES_TRIP
    assert decide(dataclasses.replace(in_grace, fees_overdue=False)).code == policy.GRACE_PERIOD
    # the other guards hold both back
    assert decide(dataclasses.replace(in_grace, keep_power=True)).code == policy.KEEP_POWER


def test_relay_open_for_fees_stays_open_until_paid_then_closes():
    still = decide(fees(relay="open", open_reason="fees"))
    assert (still.action, still.code) == ("none", policy.STILL_FEES_DUE)
    assert still.reason == "fee invoices overdue: relay stays open"
    # trusted on an unknown relay too, like an arrears trip
    unknown = decide(fees(relay="unknown", open_reason="fees"))
    assert unknown.code == policy.STILL_FEES_DUE
    paid = decide(fees(relay="open", open_reason="fees", fees_overdue=False))
    assert (paid.action, paid.code) == ("close", policy.FEES_CLEARED)
    assert paid.reason == "fee invoices paid: close the relay tripped for overdue fees"


def test_closing_is_never_postponed_for_fees_nor_held_by_a_guard():
    paid = fees(relay="open", open_reason="fees", fees_overdue=False)
    quiet = dataclasses.replace(paid, quiet_hours=((dt.time(13), dt.time(15)),))
    assert decide(quiet).action == "close"
    keep = decide(fees(relay="open", open_reason="fees", keep_power=True))
    assert (keep.action, keep.code) == ("close", policy.KEEP_POWER_CLOSE)
    assert "tripped for overdue fees" in keep.reason
    protected = decide(fees(relay="open", open_reason="fees", protected_tenant=True))
    assert (protected.action, protected.code) == ("close", policy.PROTECTED_TENANT_CLOSE)


def test_open_for_fees_and_in_arrears_closes_only_once_both_are_cleared():
    broke = {"relay": "open", "open_reason": "fees", "balance": D("-3.20")}
    # both due: stays open for the fees it was opened for
    assert decide(fees(**broke)).code == policy.STILL_FEES_DUE
    # fees paid, still -3.20 below 0.00: stays open, now for arrears
    unpaid = decide(fees(**broke, fees_overdue=False))
    assert (unpaid.action, unpaid.code) == ("none", policy.STILL_IN_ARREARS)
    # a recharge to +10.00 but the fees still overdue: no close
    assert decide(fees(relay="open", open_reason="fees")).action == "none"


def test_open_for_arrears_with_fees_due_closes_only_once_both_are_cleared():
    opened = {"relay": "open", "open_reason": "arrears"}
    # recharged to +10.00 (above the 0.00 floor) but the fees are overdue: stays open
    recharged = decide(fees(**opened))
    assert (recharged.action, recharged.code) == ("none", policy.STILL_FEES_DUE)
    assert recharged.reason == (
        "balance 10.00 above disconnection floor 0.00, but fee invoices overdue: relay stays open"
    )
    assert decide(fees(**opened, balance=D("-1"))).code == policy.STILL_IN_ARREARS
    # both cleared: the arrears close
    assert decide(fees(**opened, fees_overdue=False)).code == policy.CREDIT_RESTORED


def test_overload_with_fees_due_is_not_reconnected():
    trip = dt.datetime(2026, 1, 5, 9, 0)
    # 09:00 + 10 min passed: without fees it reconnects
    assert decide(overload([trip], MONDAY_2PM)).code == policy.OVERLOAD_RECONNECT
    due = decide(overload([trip], MONDAY_2PM, fees_overdue=True))
    assert (due.action, due.code) == ("none", policy.OVERLOAD_FEES_DUE)
    # the arrears grace does not hold the fees back (arrears since 13:00 + 2 h = 15:00)
    in_grace = overload(
        [trip], MONDAY_2PM, balance=D("-3.20"), arrears_since=dt.datetime(2026, 1, 5, 13, 0)
    )
    assert decide(in_grace).code == policy.OVERLOAD_RECONNECT
    assert decide(dataclasses.replace(in_grace, fees_overdue=True)).code == (
        policy.OVERLOAD_FEES_DUE
    )
    # a guard that would hold a fees trip back lets the reconnect go
    keep = overload([trip], MONDAY_2PM, fees_overdue=True, keep_power=True)
    assert decide(keep).code == policy.OVERLOAD_RECONNECT
    night = overload(
        [trip], MONDAY_2PM, fees_overdue=True, quiet_hours=((dt.time(13), dt.time(15)),)
    )
    assert decide(night).code == policy.OVERLOAD_RECONNECT


def test_manual_trip_stays_whatever_the_fees():
    for overdue in (True, False):
        decision = decide(fees(relay="open", open_reason="manual", fees_overdue=overdue))
        assert decision.code == policy.MANUAL_TRIP_STAYS


def test_no_flapping_over_a_fee_and_arrears_episode():
    """Walk one meter through the episode, applying each decision to the relay as the
    hardware addon does (trip: open for its reason; still_*: the new reason)."""
    reasons = {policy.STILL_FEES_DUE: "fees", policy.STILL_IN_ARREARS: "arrears"}
    trip_reasons = {policy.FEES_TRIP: "fees", policy.ARREARS_TRIP: "arrears"}
    relay, reason, actions = "closed", None, []
    # (balance, fees overdue) at each cycle
    steps = [
        (D("10"), True),  # fees overdue: trip for fees
        (D("-3.20"), True),  # also in arrears: stays open
        (D("-3.20"), False),  # fees paid, still in arrears: stays open (for arrears)
        (D("-3.20"), True),  # a new fee overdue: still open
        (D("10"), True),  # recharged, fees overdue: still open (for fees)
        (D("10"), False),  # both cleared: close
        (D("10"), False),  # nothing more
    ]
    for balance, overdue in steps:
        decision = decide(
            fees(balance=balance, fees_overdue=overdue, relay=relay, open_reason=reason)
        )
        actions.append(decision.action)
        if decision.action == "trip":
            relay, reason = "open", trip_reasons[decision.code]
        elif decision.action == "close":
            relay, reason = "closed", None
        else:
            reason = reasons.get(decision.code, reason)
    assert actions == ["trip", "none", "none", "none", "none", "close", "none"]


# --------------------------------------------------------------------------- helpers, bad input


def test_quiet_hours_and_no_cut_day_helpers():
    assert in_quiet_hours(dt.datetime(2026, 1, 5, 22, 0), NIGHT)
    assert not in_quiet_hours(dt.datetime(2026, 1, 5, 21, 59), NIGHT)
    assert is_no_cut_day(dt.date(2026, 1, 11), frozenset(), no_cut_weekends=True)  # Sunday
    assert not is_no_cut_day(dt.date(2026, 1, 11), frozenset())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"relay": "half"}, "relay state must be one of closed, open, unknown"),
        ({"open_reason": "storm"}, "open reason must be one of arrears, overload, manual"),
        ({"now": dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)}, "now must be naive"),
        ({"arrears_since": dt.datetime(2026, 1, 6)}, "arrears_since 2026-01-06 00:00 is after"),
        ({"quiet_hours": ((dt.time(8), dt.time(8)),)}, "starts and ends at 08:00"),
        ({"quiet_hours": (dt.time(8),)}, "must be a \\(start, end\\) pair"),
        ({"grace_period": dt.timedelta(minutes=-1)}, "grace period must not be negative"),
        ({"relay": "open", "open_reason": "overload"}, "no overload trip time given"),
        ({"overload_max_reconnects_per_day": -1}, "must be an integer >= 0"),
        ({"balance": 1.5}, "balance must be a Decimal"),
        ({"no_cut_dates": {dt.datetime(2026, 1, 1)}}, "no-cut dates must be dates"),
    ],
)
def test_bad_inputs_are_refused(changes, message):
    with pytest.raises(ValidationError, match=message):
        inputs(**changes)


# --------------------------------------------------------------------------- properties

times = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31))
clock = st.times().map(lambda t: t.replace(second=0, microsecond=0))
quiet = st.lists(st.tuples(clock, clock).filter(lambda pair: pair[0] != pair[1]), max_size=2)


rarely_true = st.sampled_from([False, False, False, True])  # leave room for trips


@st.composite
def policy_inputs(draw):
    now = draw(times)
    arrears = draw(st.decimals(min_value=-20, max_value=0, places=2))
    thresholds = Thresholds(arrears + 20, arrears + 5, arrears)
    emergency = draw(st.decimals(min_value=0, max_value=30, places=2))
    credit = Credit(
        credit_limit=draw(st.decimals(min_value=0, max_value=50, places=2)),
        emergency_amount=emergency,
        emergency_active=emergency > 0 and draw(st.booleans()),
    )
    relay = draw(st.sampled_from(policy.RELAY_STATES))
    reason = draw(st.sampled_from((None, *policy.OPEN_REASONS)))
    trips = draw(
        st.lists(st.datetimes(min_value=now - dt.timedelta(days=2), max_value=now), max_size=5)
    )
    if reason == "overload" and not trips:
        trips = [now]
    return PolicyInputs(
        balance=draw(st.decimals(min_value=-150, max_value=150, places=2)),
        thresholds=thresholds,
        now=now,
        relay=relay,
        open_reason=reason,
        credit=credit,
        keep_power=draw(rarely_true),
        protected_tenant=draw(rarely_true),
        quiet_hours=draw(quiet),
        no_cut_dates=draw(
            st.sets(
                st.dates(
                    min_value=now.date() - dt.timedelta(days=3),
                    max_value=now.date() + dt.timedelta(days=3),
                )
            )
        ),
        no_cut_weekends=draw(st.booleans()),
        arrears_since=draw(
            st.none() | st.datetimes(min_value=now - dt.timedelta(days=3), max_value=now)
        ),
        grace_period=draw(
            st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=48))
        ),
        overload_trips=trips,
        overload_reconnect_after=draw(
            st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=1))
        ),
        overload_max_reconnects_per_day=draw(st.integers(0, 4)),
        fees_overdue=draw(rarely_true),
    )


@settings(max_examples=400)
@given(policy_inputs())
def test_property_safety_rules(given_inputs):
    decision = decide(given_inputs)
    assert decision.action in policy.ACTIONS
    assert decision.code and decision.reason
    if decision.action == "trip":
        assert not given_inputs.keep_power
        assert not given_inputs.protected_tenant
        assert not in_quiet_hours(given_inputs.now, given_inputs.quiet_hours)
        assert not is_no_cut_day(
            given_inputs.now.date(), given_inputs.no_cut_dates, given_inputs.no_cut_weekends
        )
        assert given_inputs.fees_overdue or given_inputs.balance <= disconnect_floor(
            given_inputs.thresholds, given_inputs.credit
        )
        assert decision.code in (policy.ARREARS_TRIP, policy.FEES_TRIP)
    if given_inputs.open_reason == "manual" and given_inputs.relay != "closed":
        assert decision.action != "close"
    if decision.action == "close" and given_inputs.open_reason in ("arrears", "fees"):
        # never closed while something would keep it open, unless a guard says power
        guarded = given_inputs.keep_power or given_inputs.protected_tenant
        in_arrears = given_inputs.balance <= disconnect_floor(
            given_inputs.thresholds, given_inputs.credit
        )
        assert guarded or not (given_inputs.fees_overdue or in_arrears)


def _guarded(inputs, guard):
    """``inputs`` with one guard against a trip switched on: quiet hours around now, today
    a holiday, or the boolean flag named ``guard``."""
    now = inputs.now
    if guard == "quiet":
        start = (now - dt.timedelta(minutes=1)).time()
        end = (now + dt.timedelta(minutes=1)).time()
        return dataclasses.replace(inputs, quiet_hours=((start, end),))
    if guard == "holiday":
        return dataclasses.replace(inputs, no_cut_dates={now.date()})
    return dataclasses.replace(inputs, **{guard: True})


@settings(max_examples=200)
@given(
    policy_inputs(),
    st.decimals(min_value=0, max_value=100, places=2),
    st.sampled_from(["keep_power", "protected_tenant", "quiet", "holiday"]),
)
def test_property_each_guard_alone_prevents_a_trip(given_inputs, shortfall, guard):
    """Take an input that trips, add one guard: the trip no longer happens."""
    floor = disconnect_floor(given_inputs.thresholds, given_inputs.credit)
    due = dataclasses.replace(
        given_inputs,
        relay="closed",
        fees_overdue=False,
        balance=floor - shortfall,
        keep_power=False,
        protected_tenant=False,
        grace_period=dt.timedelta(0),
        quiet_hours=(),
        no_cut_dates=frozenset(),
        no_cut_weekends=False,
    )
    assert decide(due).action == "trip"
    assert decide(_guarded(due, guard)).action == "none"


@settings(max_examples=200)
@given(
    policy_inputs(),
    st.decimals(min_value=D("0.01"), max_value=100, places=2),
    st.sampled_from(["keep_power", "protected_tenant", "quiet", "holiday"]),
)
def test_property_each_guard_alone_prevents_a_fees_trip(given_inputs, surplus, guard):
    """A wallet in credit with fees overdue trips; one guard alone holds it back."""
    floor = disconnect_floor(given_inputs.thresholds, given_inputs.credit)
    due = dataclasses.replace(
        given_inputs,
        relay="closed",
        fees_overdue=True,
        balance=floor + surplus,
        keep_power=False,
        protected_tenant=False,
        quiet_hours=(),
        no_cut_dates=frozenset(),
        no_cut_weekends=False,
    )
    assert decide(due).code == policy.FEES_TRIP  # whatever the arrears grace period
    assert decide(_guarded(due, guard)).action == "none"
