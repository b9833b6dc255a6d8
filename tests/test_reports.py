"""Report arithmetic: buckets, grouped sums, month-on-month and year-on-year."""

import datetime
from decimal import Decimal as D

import pytest

from prepaid_energy_core import reports
from prepaid_energy_core.errors import ValidationError

day = datetime.date


def test_buckets():
    assert reports.bucket(day(2025, 3, 17), "day") == day(2025, 3, 17)
    assert reports.bucket(day(2025, 3, 17), "month") == day(2025, 3, 1)
    assert reports.bucket(day(2025, 3, 17), "year") == day(2025, 1, 1)
    with pytest.raises(ValidationError):
        reports.bucket(day(2025, 3, 17), "week")
    with pytest.raises(ValidationError):
        reports.bucket(datetime.datetime(2025, 3, 17), "day")


def test_summarize_sales_per_month_and_channel():
    rows = [
        {"date": day(2025, 3, 1), "channel": "Cash", "recharges": D("100"), "net": D("100")},
        {"date": day(2025, 3, 31), "channel": "Cash", "recharges": D("50"), "net": D("20")},
        {"date": day(2025, 3, 2), "channel": "Bank", "recharges": D("10"), "net": D("10")},
        {"date": day(2025, 4, 1), "channel": "Cash", "recharges": 0.1, "net": 0.1},
        {"date": day(2025, 4, 2), "channel": None, "recharges": 0.2, "net": None},
    ]
    result = reports.summarize(rows, ["channel"], ["recharges", "net"], granularity="month")
    assert result == [
        {
            "period": day(2025, 3, 1),
            "channel": "Bank",
            "recharges": D("10"),
            "net": D("10"),
            "count": 1,
        },
        {
            "period": day(2025, 3, 1),
            "channel": "Cash",
            "recharges": D("150"),
            "net": D("120"),
            "count": 2,
        },
        {
            "period": day(2025, 4, 1),
            "channel": None,
            "recharges": D("0.2"),
            "net": D("0"),
            "count": 1,
        },
        {
            "period": day(2025, 4, 1),
            "channel": "Cash",
            "recharges": D("0.1"),
            "net": D("0.1"),
            "count": 1,
        },
    ]
    assert reports.totals(result, ["recharges", "net"]) == {
        "recharges": D("160.3"),
        "net": D("130.1"),
    }


def test_change_and_percent():
    assert reports.change("1250.00", "1000.00") == (D("250.00"), D("25.00"))
    assert reports.change("800.00", "1000.00") == (D("-200.00"), D("-20.00"))
    assert reports.change("5", "0") == (D("5"), None)
    # from a negative figure the percentage is over its size: -100 -> 50 is +150 %
    assert reports.change("50", "-100") == (D("150"), D("150.00"))


def test_monthly_trend_against_last_month_and_last_year():
    series = {
        day(2024, 3, 1): D("900"),
        day(2025, 2, 1): D("1000"),
        day(2025, 3, 1): D("1250"),
    }
    feb, mar, apr = reports.monthly_trend(series, day(2025, 2, 14), day(2025, 4, 30))
    assert (mar.month, mar.value, mar.previous_month, mar.mom_percent) == (
        day(2025, 3, 1),
        D("1250"),
        D("1000"),
        D("25.00"),
    )
    # 1250 / 900 - 1 = 38.888.. % -> 38.89 %
    assert (mar.previous_year, mar.yoy_change, mar.yoy_percent) == (D("900"), D("350"), D("38.89"))
    assert feb.yoy_percent is None and feb.previous_year == 0
    assert (apr.value, apr.mom_change, apr.mom_percent) == (D("0"), D("-1250"), D("-100.00"))
    with pytest.raises(ValidationError):
        reports.monthly_trend(series, day(2025, 4, 1), day(2025, 3, 1))
    assert reports.add_months(day(2025, 1, 1), -1) == day(2024, 12, 1)
