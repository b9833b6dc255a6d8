"""Cashier shifts: what a till should hold per channel, and the counted difference."""

from decimal import Decimal as D

import pytest

from prepaid_energy_core import shifts
from prepaid_energy_core.errors import ValidationError


def test_worked_example_from_the_module():
    # float 200.00 + 100.00 + 50.00 - 30.00 (refund) - 50.00 (reversal) = 270.00
    totals = shifts.totals(
        [
            ("cash", "recharge", "100.00"),
            ("cash", "recharge", "50.00"),
            ("cash", "refund", "-30.00"),
            ("cash", "reversal", "-50.00"),
            ("card", "recharge", "80.00"),
        ],
        openings={"cash": "200.00"},
    )
    cash = totals["cash"]
    assert (cash.recharges, cash.refunds, cash.reversals, cash.count) == (
        D("150.00"),
        D("30.00"),
        D("-50.00"),
        4,
    )
    assert (cash.net, cash.expected) == (D("70.00"), D("270.00"))
    assert totals["card"].expected == D("80.00")
    closing = shifts.close(totals, {"cash": "265.00", "card": "80.00"})
    assert closing["cash"].difference == D("-5.00")  # a shortage
    assert closing["card"].difference == 0


def test_a_channel_with_only_a_float_is_listed_and_must_be_counted():
    totals = shifts.totals([], openings={"cash": "150"})
    assert totals["cash"].expected == D("150")
    with pytest.raises(ValidationError) as caught:
        shifts.close(totals, {})
    assert caught.value.code == "shift.not_counted"


@pytest.mark.parametrize(
    ("movements", "openings", "code"),
    [
        ([("cash", "recharge", "-5")], None, "shift.movement_sign"),
        ([("cash", "refund", "5")], None, "shift.movement_sign"),
        ([("cash", "transfer", "5")], None, "shift.operation"),
        ([], {"cash": "-1"}, "shift.negative_float"),
    ],
)
def test_bad_movements(movements, openings, code):
    with pytest.raises(ValidationError) as caught:
        shifts.totals(movements, openings)
    assert caught.value.code == code


def test_a_negative_count_is_refused():
    with pytest.raises(ValidationError) as caught:
        shifts.close(shifts.totals([("cash", "recharge", "1")]), {"cash": "-1"})
    assert caught.value.code == "shift.negative_count"
