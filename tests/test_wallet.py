"""Wallet: signed ledger, alarm levels, notification state machine, credit."""

import json
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.wallet import (
    ALARM_LEVELS,
    AlarmState,
    Credit,
    LedgerLine,
    Thresholds,
    activate_emergency_credit,
    available_credit,
    balance,
    check_recharge,
    disconnect_floor,
    evaluate,
    is_in_arrears,
    level,
    settle_emergency_credit,
    signed_amount,
)

THRESHOLDS = Thresholds(alarm1=D("20"), alarm2=D("5"), arrears=D("0"))


# --------------------------------------------------------------------------- ledger


def test_balance_sums_signed_lines():
    lines = [
        LedgerLine("recharge", D("100.00")),
        LedgerLine("consumption", D("-12.34")),
        LedgerLine("fee", D("-5.00")),
        ("adjustment", D("1.50")),
        ("transfer_in", "20.00"),
        ("refund", D("-30.00")),
        ("reversal", D("12.34")),  # reverses the consumption line
        ("transfer_out", D("-0.50")),
    ]
    # 100.00 - 12.34 - 5.00 + 1.50 + 20.00 - 30.00 + 12.34 - 0.50 = 86.00
    assert balance(lines) == D("86.00")


def test_balance_of_no_lines_is_zero():
    assert balance([]) == D("0")


@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        ("recharge", D("-10"), "recharge line must be positive"),
        ("recharge", D("0"), "recharge line must be positive"),
        ("transfer_in", D("-1"), "transfer_in line must be positive"),
        ("refund", D("10"), "refund line must be negative"),
        ("fee", D("0"), "fee line must be negative"),
        ("transfer_out", D("3"), "transfer_out line must be negative"),
        ("consumption", D("0.01"), "consumption line must be zero or negative"),
        ("adjustment", D("0"), "adjustment line must not be zero"),
        ("reversal", D("0"), "reversal line must not be zero"),
        ("gift", D("1"), "unknown ledger kind 'gift'"),
    ],
)
def test_ledger_line_refuses_wrong_sign_or_kind(kind, amount, message):
    with pytest.raises(ValidationError, match=message):
        LedgerLine(kind, amount)


def test_zero_consumption_line_is_allowed():
    assert LedgerLine("consumption", D("0")).amount == D("0")


def test_ledger_line_refuses_float():
    with pytest.raises(ValidationError, match="must be a Decimal, int or str, not float"):
        LedgerLine("recharge", 10.0)


def test_balance_names_the_bad_line_position():
    with pytest.raises(ValidationError, match="ledger line 1: a refund line must be negative"):
        balance([("recharge", D("5")), ("refund", D("5"))])
    with pytest.raises(ValidationError, match="ledger line 0 is not a LedgerLine"):
        balance([("recharge",)])


def test_signed_amount_applies_the_kind_sign():
    assert signed_amount("recharge", D("50")) == D("50")
    assert signed_amount("refund", D("50")) == D("-50")
    assert signed_amount("consumption", D("0")) == D("0")
    with pytest.raises(ValidationError, match="give the refund amount as a positive figure"):
        signed_amount("refund", D("-50"))
    with pytest.raises(ValidationError, match="adjustment has no implied sign"):
        signed_amount("adjustment", D("5"))


# --------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    ("alarm1", "alarm2", "arrears"),
    [("5", "20", "0"), ("20", "20", "0"), ("20", "5", "5"), ("20", "5", "10")],
)
def test_thresholds_must_be_strictly_ordered(alarm1, alarm2, arrears):
    with pytest.raises(ValidationError, match="alarm1 > alarm2 > arrears"):
        Thresholds(D(alarm1), D(alarm2), D(arrears))


def test_arrears_threshold_defaults_to_zero():
    assert Thresholds(D("10"), D("1")).arrears == D("0")


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("20.01", "normal"),
        ("20.00", "alarm1"),  # at the threshold counts as reached
        ("5.01", "alarm1"),
        ("5.00", "alarm2"),
        ("0.01", "alarm2"),
        ("0.00", "arrears"),  # meters cut at zero, not at minus one cent
        ("-3.20", "arrears"),
    ],
)
def test_level_of_balance(amount, expected):
    assert level(D(amount), THRESHOLDS) == expected


# --------------------------------------------------------------------------- notifications


def test_each_level_notified_once_per_downward_crossing():
    state = AlarmState()
    # 30 -> 18: crosses alarm1 (20)
    state, notes = evaluate(state, D("30"), D("18"), "consumption", THRESHOLDS)
    assert [n.level for n in notes] == ["alarm1"]
    assert notes[0].threshold == D("20") and notes[0].balance == D("18")
    # 18 -> 12: still alarm1, already notified
    state, notes = evaluate(state, D("18"), D("12"), "consumption", THRESHOLDS)
    assert notes == []
    # 12 -> 4: crosses alarm2 (5)
    state, notes = evaluate(state, D("12"), D("4"), "consumption", THRESHOLDS)
    assert [n.level for n in notes] == ["alarm2"]
    # 4 -> -1: crosses arrears (0)
    state, notes = evaluate(state, D("4"), D("-1"), "fee", THRESHOLDS)
    assert [n.level for n in notes] == ["arrears"]
    assert notes[0].cause == "fee"
    assert state == AlarmState(alarm1=True, alarm2=True, arrears=True)


def test_recharge_resets_flags_above_threshold_only():
    state = AlarmState(alarm1=True, alarm2=True, arrears=True)
    # recharge -1 -> 9: above arrears (0) and alarm2 (5), still below alarm1 (20)
    state, notes = evaluate(state, D("-1"), D("9"), "recharge", THRESHOLDS)
    assert notes == []
    assert state == AlarmState(alarm1=True, alarm2=False, arrears=False)
    # falling to 3 notifies alarm2 again, alarm1 was never reset
    state, notes = evaluate(state, D("9"), D("3"), "consumption", THRESHOLDS)
    assert [n.level for n in notes] == ["alarm2"]


def test_small_recharge_still_in_arrears_does_not_renotify():
    state = AlarmState(alarm1=True, alarm2=True, arrears=True)
    # -10 + 4 = -6: still at arrears, no reset and no new notice
    state, notes = evaluate(state, D("-10"), D("-6"), "recharge", THRESHOLDS)
    assert notes == []
    state, notes = evaluate(state, D("-6"), D("-8"), "consumption", THRESHOLDS)
    assert notes == [] and state.arrears


def test_jump_from_normal_to_arrears_notifies_only_deepest():
    state, notes = evaluate(AlarmState(), D("50"), D("-2"), "consumption", THRESHOLDS)
    assert [n.level for n in notes] == ["arrears"]
    # every crossed level is marked, so a recharge to 3 (alarm2 band) and a
    # further fall to 1 do not announce alarm2 again
    assert state == AlarmState(alarm1=True, alarm2=True, arrears=True)
    state, notes = evaluate(state, D("-2"), D("3"), "recharge", THRESHOLDS)
    state, notes = evaluate(state, D("3"), D("1"), "consumption", THRESHOLDS)
    assert notes == []


def test_fresh_account_opened_in_arrears_is_notified_once():
    state, notes = evaluate(AlarmState(), D("0"), D("0"), "consumption", THRESHOLDS)
    assert [n.level for n in notes] == ["arrears"]
    state, notes = evaluate(state, D("0"), D("0"), "consumption", THRESHOLDS)
    assert notes == []


def test_cause_must_match_direction():
    with pytest.raises(ValidationError, match="a recharge cannot lower the balance"):
        evaluate(AlarmState(), D("10"), D("5"), "recharge", THRESHOLDS)
    with pytest.raises(ValidationError, match="a consumption cannot raise the balance"):
        evaluate(AlarmState(), D("5"), D("10"), "consumption", THRESHOLDS)
    with pytest.raises(ValidationError, match="unknown ledger kind 'tariff'"):
        evaluate(AlarmState(), D("5"), D("4"), "tariff", THRESHOLDS)


def test_alarm_state_round_trips_through_json():
    state = AlarmState(alarm1=True, alarm2=False, arrears=True)
    stored = json.dumps(state.to_dict())
    assert AlarmState.from_dict(json.loads(stored)) == state
    assert AlarmState.from_dict(None) == AlarmState()


def test_alarm_state_from_dict_refuses_garbage():
    with pytest.raises(ValidationError, match="unknown alarm state keys: alarm3"):
        AlarmState.from_dict({"alarm3": True})
    with pytest.raises(ValidationError, match="'alarm1' must be true or false"):
        AlarmState.from_dict({"alarm1": "yes"})


amounts = st.decimals(min_value=-200, max_value=200, places=2)


@settings(max_examples=150)
@given(start=amounts, moves=st.lists(amounts, max_size=30))
def test_property_notified_once_between_rises(start, moves):
    """A level is never notified twice without the balance rising above it between."""
    state = AlarmState()
    old = start
    above_since_notice = dict.fromkeys(ALARM_LEVELS, True)
    for move in moves:
        new = old + move
        cause = "recharge" if move > 0 else "consumption"
        state, notes = evaluate(state, old, new, cause, THRESHOLDS)
        assert len(notes) <= 1
        for note in notes:
            assert above_since_notice[note.level]
            above_since_notice[note.level] = False
            assert new <= THRESHOLDS.of(note.level)
        for name in ALARM_LEVELS:
            if new > THRESHOLDS.of(name):
                above_since_notice[name] = True
            # the stored flag is exactly "at or below the level"
            assert getattr(state, name) == (new <= THRESHOLDS.of(name))
        old = new


# --------------------------------------------------------------------------- recharge limits


def test_check_recharge_returns_balance_after():
    # 980.00 + 20.00 = 1000.00, exactly the maximum: allowed
    assert check_recharge(D("980.00"), D("20.00"), D("1000.00")) == D("1000.00")
    assert check_recharge(D("-5"), D("10")) == D("5")


def test_check_recharge_refuses_over_maximum_and_says_how_much_fits():
    # 980.00 + 50.00 = 1030.00 > 1000.00; room = 1000.00 - 980.00 = 20.00
    with pytest.raises(ValidationError, match=r"above the maximum 1000\.00; at most 20\.00"):
        check_recharge(D("980.00"), D("50.00"), D("1000.00"))


@pytest.mark.parametrize("amount", [D("0"), D("-5")])
def test_check_recharge_refuses_non_positive(amount):
    with pytest.raises(ValidationError, match="a recharge must be positive"):
        check_recharge(D("10"), amount, D("100"))


# --------------------------------------------------------------------------- credit


def test_credit_limit_moves_the_disconnection_floor():
    credit = Credit(credit_limit=D("50"))
    # floor = arrears 0 - credit limit 50 = -50
    assert disconnect_floor(THRESHOLDS, credit) == D("-50")
    # available = -30 - (-50) = 20
    assert available_credit(D("-30"), THRESHOLDS, credit) == D("20")
    assert not is_in_arrears(D("-49.99"), THRESHOLDS, credit)
    assert is_in_arrears(D("-50.00"), THRESHOLDS, credit)
    # without a credit limit, zero is already arrears
    assert is_in_arrears(D("0"), THRESHOLDS)


def test_emergency_credit_lifecycle():
    credit = Credit(credit_limit=D("10"), emergency_amount=D("20"))
    # not yet activated: floor = 0 - 10 = -10
    assert is_in_arrears(D("-15"), THRESHOLDS, credit)
    credit = activate_emergency_credit(credit)
    # active: floor = 0 - 10 - 20 = -30; available at -15 is 15
    assert available_credit(D("-15"), THRESHOLDS, credit) == D("15")
    with pytest.raises(ValidationError, match="already in use"):
        activate_emergency_credit(credit)
    # a consumption never repays it, even above arrears
    assert settle_emergency_credit(credit, D("8"), D("3"), THRESHOLDS) == credit
    # a recharge -25 -> -5 is not enough (still at or below arrears 0)
    assert settle_emergency_credit(credit, D("-25"), D("-5"), THRESHOLDS).emergency_active
    # a recharge -25 -> 15 repays it; it can be activated again
    repaid = settle_emergency_credit(credit, D("-25"), D("15"), THRESHOLDS)
    assert not repaid.emergency_active
    assert activate_emergency_credit(repaid).emergency_active


def test_emergency_credit_needs_an_amount():
    with pytest.raises(ValidationError, match="no emergency credit is offered"):
        activate_emergency_credit(Credit())
    with pytest.raises(ValidationError, match="cannot be active with a zero amount"):
        Credit(emergency_active=True)
    with pytest.raises(ValidationError, match="credit limit must not be negative"):
        Credit(credit_limit=D("-1"))


def test_credit_round_trips_through_json():
    credit = Credit(credit_limit=D("12.50"), emergency_amount=D("20"), emergency_active=True)
    assert Credit.from_dict(json.loads(json.dumps(credit.to_dict()))) == credit
    with pytest.raises(ValidationError, match="unknown credit keys: limit"):
        Credit.from_dict({"limit": "5"})


# --------------------------------------------------------------------------- levels switched off


def test_alarm_levels_can_be_off_but_arrears_always_applies():
    # A site that set up no warnings: only arrears (0) is on. -0.01 is in
    # arrears, 3.00 is normal, and falling to -0.01 notifies arrears once.
    arrears_only = Thresholds(alarm1=None, alarm2=None)
    assert arrears_only.enabled_levels() == ("arrears",)
    assert level(D("3.00"), arrears_only) == "normal"
    assert level(D("-0.01"), arrears_only) == "arrears"
    state, due = evaluate(AlarmState(), D("3.00"), D("-0.01"), "consumption", arrears_only)
    assert [n.level for n in due] == ["arrears"]
    assert state == AlarmState(arrears=True)
    _state, again = evaluate(state, D("-0.01"), D("-2.00"), "consumption", arrears_only)
    assert again == []


def test_only_alarm2_on_is_checked_against_arrears():
    # alarm1 off, alarm2 5: 4.00 is alarm2; an alarm2 below arrears is refused
    only_alarm2 = Thresholds(alarm1=None, alarm2=D("5"))
    assert level(D("4.00"), only_alarm2) == "alarm2"
    assert level(D("6.00"), only_alarm2) == "normal"
    with pytest.raises(ValidationError, match="alarm2 -1 not above arrears 0"):
        Thresholds(alarm1=None, alarm2=D("-1"))


def test_opening_balance_takes_either_sign_but_not_zero():
    assert balance([("opening", D("50.00")), ("consumption", D("-10.00"))]) == D("40.00")
    assert balance([("opening", D("-12.50"))]) == D("-12.50")
    with pytest.raises(ValidationError, match="opening"):
        balance([("opening", D("0"))])
