"""Common-area apportionment: largest-remainder rounding that never loses a cent."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.apportion import apportion
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.money import quantum


def test_area_split_worked_example():
    areas = {"A101": D("50"), "A102": D("30"), "A103": D("20")}
    # 100.00 x 50/100 = 50.00, x 30/100 = 30.00, x 20/100 = 20.00
    assert apportion(D("100.00"), areas, "area") == {
        "A101": D("50.00"),
        "A102": D("30.00"),
        "A103": D("20.00"),
    }


def test_equal_split_gives_the_extra_cent_by_key_order():
    # 100.00 / 3 = 33.333..: floors 33.33 x 3 = 99.99, one cent missing;
    # remainders tie, so the smallest key ("a") gets it
    parts = apportion(D("100.00"), {"c": None, "a": None, "b": None}, "equal")
    assert parts == {"c": D("33.33"), "a": D("33.34"), "b": D("33.33")}
    assert list(parts) == ["c", "a", "b"]  # result keeps the caller's key order


def test_result_does_not_depend_on_mapping_order():
    weights = {3: D("1"), 1: D("1"), 2: D("1")}
    reordered = {1: D("1"), 2: D("1"), 3: D("1")}
    assert apportion(D("0.02"), weights, "area") == apportion(D("0.02"), reordered, "area")
    # 0.02 / 3: floors all 0.00, two cents go to keys 1 and 2
    assert apportion(D("0.02"), weights, "area") == {3: D("0.00"), 1: D("0.01"), 2: D("0.01")}


def test_largest_remainder_wins_before_key_order():
    areas = {"a": D("1"), "b": D("2")}
    # 0.10 x 1/3 = 0.0333 -> 0.03 (rem 0.33 cent); 0.10 x 2/3 = 0.0666 -> 0.06 (rem 0.67 cent)
    # one cent missing: "b" has the larger remainder
    assert apportion(D("0.10"), areas, "area") == {"a": D("0.03"), "b": D("0.07")}


def test_negative_total_is_split_like_a_charge():
    areas = {"a": D("1"), "b": D("2")}
    # mirror of the case above
    assert apportion(D("-0.10"), areas, "area") == {"a": D("-0.03"), "b": D("-0.07")}


def test_consumption_split_in_kwh_with_three_digits():
    consumption = {"u1": D("120.5"), "u2": D("79.5"), "u3": D("0")}
    # 10.000 kWh x 120.5/200 = 6.025, x 79.5/200 = 3.975, x 0 = 0
    assert apportion(D("10.000"), consumption, "consumption", digits=3) == {
        "u1": D("6.025"),
        "u2": D("3.975"),
        "u3": D("0.000"),
    }


def test_fixed_percent():
    percents = {"shop": D("62.5"), "office": D("37.5")}
    # 80.01 x 62.5% = 50.00625 -> 50.00 (rem 0.625 cent); x 37.5% = 30.00375 -> 30.00
    # (rem 0.375 cent); one cent missing goes to "shop"
    assert apportion(D("80.01"), percents, "fixed_percent") == {
        "shop": D("50.01"),
        "office": D("30.00"),
    }


def test_zero_total_gives_zero_parts():
    assert apportion(D("0"), {"a": D("1"), "b": D("0")}, "area") == {
        "a": D("0.00"),
        "b": D("0.00"),
    }


@pytest.mark.parametrize(
    ("total", "weights", "method", "digits", "message"),
    [
        (D("10"), {}, "area", 2, "no keys given"),
        (D("10"), {"a": D("-1"), "b": D("2")}, "area", 2, "weight of 'a' must not be negative"),
        (D("10"), {"a": D("0"), "b": D("0")}, "area", 2, "all area weights are zero"),
        (D("10"), {"a": D("0")}, "consumption", 2, "all consumption weights are zero"),
        (
            D("10"),
            {"a": D("60"), "b": D("39.99")},
            "fixed_percent",
            2,
            "must sum to exactly 100, got 99.99",
        ),
        (D("10"), {"a": D("1")}, "volume", 2, "unknown apportionment method 'volume'"),
        (D("10.005"), {"a": D("1")}, "area", 2, "total 10.005 has more than 2 decimal places"),
        (D("10"), {"a": D("1")}, "area", -1, "digits must be an integer >= 0"),
        (10.0, {"a": D("1")}, "area", 2, "total must be a Decimal"),
        (D("10"), {"a": 1.0}, "area", 2, "weight of 'a' must be a Decimal"),
        (D("10"), {"a": D("1"), 2: D("1")}, "area", 2, "keys must be mutually comparable"),
        (D("10"), [("a", D("1"))], "area", 2, "weights must be a mapping"),
    ],
)
def test_bad_input_is_refused(total, weights, method, digits, message):
    with pytest.raises(ValidationError, match=message):
        apportion(total, weights, method, digits)


# --------------------------------------------------------------------------- properties

keys = st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=12, unique=True)


@st.composite
def cases(draw):
    digits = draw(st.sampled_from([0, 2, 3]))
    total = draw(st.decimals(min_value=-100000, max_value=100000, places=digits))
    units = draw(keys)
    weights = {key: draw(st.decimals(min_value=0, max_value=5000, places=2)) for key in units}
    if sum(weights.values()) == 0:
        weights[units[0]] = D("1")
    return total, weights, digits


@settings(max_examples=300)
@given(cases(), st.sampled_from(["area", "consumption"]))
def test_property_parts_sum_to_total_and_stay_within_one_quantum(case, method):
    total, weights, digits = case
    parts = apportion(total, weights, method, digits)
    assert sum(parts.values()) == total
    weight_sum = Fraction(sum(weights.values()))
    for key, part in parts.items():
        exact = Fraction(total) * Fraction(weights[key]) / weight_sum
        assert abs(Fraction(part) - exact) < Fraction(quantum(digits))
        assert part.as_tuple().exponent == -digits


@settings(max_examples=200)
@given(total=st.decimals(min_value=-10000, max_value=10000, places=2), units=keys)
def test_property_equal_parts_differ_by_at_most_one_quantum(total, units):
    parts = apportion(total, dict.fromkeys(units), "equal")
    assert sum(parts.values()) == total
    assert max(parts.values()) - min(parts.values()) <= D("0.01")


@settings(max_examples=200)
@given(
    total=st.decimals(min_value=-10000, max_value=10000, places=2),
    cuts=st.lists(st.integers(min_value=0, max_value=10000), min_size=0, max_size=6),
)
def test_property_fixed_percent_sums_to_total(total, cuts):
    # split 100.00 % at random cut points (in hundredths of a percent)
    bounds = [0, *sorted(cuts), 10000]
    percents = {
        index: D(high - low) / 100 for index, (low, high) in enumerate(zip(bounds, bounds[1:]))
    }
    parts = apportion(total, percents, "fixed_percent")
    assert sum(parts.values()) == total
    for key, part in parts.items():
        exact = Fraction(total) * Fraction(percents[key]) / 100
        assert abs(Fraction(part) - exact) < Fraction(1, 100)
