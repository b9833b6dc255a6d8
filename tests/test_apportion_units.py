"""Common areas shared among a site's units: vacant units, statements, exact sums."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.apportion import Participant, apportion_units
from prepaid_energy_core.errors import ValidationError


def units(**areas):
    return {
        key: Participant(D(value), occupied=not key.startswith("v")) for key, value in areas.items()
    }


def test_by_area_vacant_units_skipped():
    # 600.00 and 1,200.000 kWh over occupied 50 + 30 m² (the vacant 20 m² skipped):
    # 600 x 50/80 = 375.00, x 30/80 = 225.00; 1200 x 50/80 = 750.000, x 30/80 = 450.000
    statement = apportion_units(
        units(a101="50", a102="30", v103="20"), "area", "600.00", quantity="1200.000"
    )
    rows = [
        (s.key, s.percent, s.quantity, s.amount, s.landlord, s.skipped) for s in statement.lines
    ]
    assert rows == [
        ("a101", D("62.5000"), D("750.000"), D("375.00"), False, False),
        ("a102", D("37.5000"), D("450.000"), D("225.00"), False, False),
        ("v103", D("0"), D("0.000"), D("0.00"), False, True),
    ]
    assert statement.tenants_amount == D("600.00") and statement.landlord_amount == 0


def test_by_area_vacant_units_charged_to_the_landlord():
    # 600.00 over 50 + 30 + 20 m²: 300.00, 180.00 and the landlord's 120.00
    statement = apportion_units(
        units(a101="50", a102="30", v103="20"), "area", "600.00", vacant="landlord"
    )
    assert [(s.key, s.amount, s.landlord) for s in statement.lines] == [
        ("a101", D("300.00"), False),
        ("a102", D("180.00"), False),
        ("v103", D("120.00"), True),
    ]
    assert statement.tenants_amount == D("480.00")
    assert statement.landlord_amount == D("120.00")
    assert statement.line("a101").quantity is None  # no quantity was split


def test_fixed_percentages_among_the_occupied_units_when_one_is_skipped():
    # 50 / 30 / 20 % with the 20 % unit vacant: 100.00 x 50/80 = 62.50, x 30/80 = 37.50
    participants = {
        "a": Participant(D("50")),
        "b": Participant(D("30")),
        "c": Participant(D("20"), occupied=False),
    }
    statement = apportion_units(participants, "fixed_percent", "100.00")
    assert [s.amount for s in statement.lines] == [D("62.50"), D("37.50"), D("0.00")]
    # charged to the landlord, the percentages apply as they are (and must sum to 100)
    landlord = apportion_units(participants, "fixed_percent", "100.00", vacant="landlord")
    assert [s.amount for s in landlord.lines] == [D("50.00"), D("30.00"), D("20.00")]


def test_equal_and_consumption_share():
    # 100.00 equally over 3 units: 33.34 (first key on the tie), 33.33, 33.33
    equal = apportion_units(
        {"u1": Participant(), "u2": Participant(), "u3": Participant()}, "equal", "100.00"
    )
    assert [s.amount for s in equal.lines] == [D("33.34"), D("33.33"), D("33.33")]
    # 90.000 kWh by the units' own 200 and 100 kWh: 60.000 and 30.000
    share = apportion_units(
        {"u1": Participant(D("200")), "u2": Participant(D("100"))},
        "consumption",
        "45.00",
        quantity="90.000",
    )
    assert [(s.quantity, s.amount) for s in share.lines] == [
        (D("60.000"), D("30.00")),
        (D("30.000"), D("15.00")),
    ]


@pytest.mark.parametrize(
    ("participants", "kwargs", "code"),
    [
        ({"v1": Participant(D("1"), occupied=False)}, {}, "apportion.all_vacant"),
        ({"a": Participant(None)}, {}, "apportion.weight_missing"),
        ({"a": Participant(D("1"))}, {"vacant": "tenant"}, "apportion.vacant_policy"),
        ({"a": Participant(D("1"))}, {"method": "volume"}, "apportion.method"),
        ({}, {}, "apportion.no_keys"),
        ({"a": Participant(D("0"))}, {}, "apportion.weights_zero"),
    ],
)
def test_bad_input_is_refused(participants, kwargs, code):
    arguments = {"method": "area", "amount": "10.00", **kwargs}
    with pytest.raises(ValidationError) as caught:
        apportion_units(participants, **arguments)
    assert caught.value.code == code


participant_lists = st.lists(
    st.tuples(st.decimals(min_value=0, max_value=5000, places=2), st.booleans()),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    rows=participant_lists,
    method=st.sampled_from(["area", "consumption", "equal"]),
    vacant=st.sampled_from(["skip", "landlord"]),
    amount=st.decimals(min_value=-100000, max_value=100000, places=2),
    quantity=st.decimals(min_value=0, max_value=1000000, places=3),
)
def test_shares_always_sum_exactly_to_the_master_figures(rows, method, vacant, amount, quantity):
    participants = {
        f"u{index:02d}": Participant(weight, occupied)
        for index, (weight, occupied) in enumerate(rows)
    }
    sharing = [p for p in participants.values() if p.occupied or vacant == "landlord"]
    if not sharing or (method != "equal" and sum(p.weight for p in sharing) == 0):
        with pytest.raises(ValidationError):
            apportion_units(participants, method, amount, quantity=quantity, vacant=vacant)
        return
    statement = apportion_units(participants, method, amount, quantity=quantity, vacant=vacant)
    assert sum(s.amount for s in statement.lines) == amount
    assert sum(s.quantity for s in statement.lines) == quantity
    assert statement.tenants_amount + statement.landlord_amount == amount
    for line in statement.lines:
        if line.skipped:
            assert line.amount == 0 and line.quantity == 0
    assert all(s.amount == 0 for s in statement.lines if s.skipped)
