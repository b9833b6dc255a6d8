"""Invoicing periods: first day, next first day, last day and the invoice's date."""

import datetime

import pytest

from prepaid_energy_core import periods
from prepaid_energy_core.errors import ValidationError

D = datetime.date


@pytest.mark.parametrize(
    ("day", "period", "start", "following", "end"),
    [
        (D(2025, 1, 1), "monthly", D(2025, 1, 1), D(2025, 2, 1), D(2025, 1, 31)),
        (D(2024, 2, 29), "monthly", D(2024, 2, 1), D(2024, 3, 1), D(2024, 2, 29)),
        (D(2025, 12, 31), "monthly", D(2025, 12, 1), D(2026, 1, 1), D(2025, 12, 31)),
        (D(2025, 3, 31), "quarterly", D(2025, 1, 1), D(2025, 4, 1), D(2025, 3, 31)),
        (D(2025, 11, 5), "quarterly", D(2025, 10, 1), D(2026, 1, 1), D(2025, 12, 31)),
        (D(2025, 4, 1), "quarterly", D(2025, 4, 1), D(2025, 7, 1), D(2025, 6, 30)),
    ],
)
def test_period_bounds(day, period, start, following, end):
    assert periods.period_start(day, period) == start
    assert periods.next_period_start(day, period) == following
    assert periods.period_end(day, period) == end


def test_the_invoice_of_a_period_is_dated_inside_it():
    november = D(2025, 11, 1)
    # a closed period: its last day
    assert periods.invoice_date(november) == D(2025, 11, 30)
    # closing on 1 December: November's invoice on 30 November, December's on the 1st
    assert periods.invoice_date(november, last_day=D(2025, 12, 1)) == D(2025, 11, 30)
    assert periods.invoice_date(D(2025, 12, 1), last_day=D(2025, 12, 1)) == D(2025, 12, 1)
    # invoiced up to mid-month: the last day invoiced
    assert periods.invoice_date(november, last_day=D(2025, 11, 14)) == D(2025, 11, 14)
    # never before the period's first day
    assert periods.invoice_date(D(2025, 12, 1), last_day=D(2025, 11, 30)) == D(2025, 12, 1)


def test_bad_input_is_refused_with_a_code():
    with pytest.raises(ValidationError, match="unknown invoicing period 'weekly'") as caught:
        periods.period_start(D(2025, 1, 1), "weekly")
    assert caught.value.code == "period.unknown"
    with pytest.raises(ValidationError, match="needs a date") as caught:
        periods.period_start(datetime.datetime(2025, 1, 1), "monthly")
    assert caught.value.code == "period.not_a_date"
