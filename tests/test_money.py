"""Decimal money helpers of prepaid_energy_core.money."""

from decimal import Decimal as D

import pytest

from prepaid_energy_core.money import plain


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (D("5E+1"), "50"),
        (D("50.000"), "50"),
        (D("61.822100"), "61.8221"),
        (D("0.000"), "0"),
        (D("-0.00"), "0"),
        (D("1E-7"), "0.0000001"),
        ("12.50", "12.5"),
        (7, "7"),
    ],
)
def test_plain_prints_digits_a_person_reads(number, text):
    assert plain(number) == text
