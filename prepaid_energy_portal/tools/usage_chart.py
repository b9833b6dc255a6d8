"""The data of the portal's usage charts, summed by PostgreSQL, shaped by the core.

Two queries per chart request whatever the history: consumption of the
readings per site-local day over the last two calendar years, and the priced
charges per day and band over the last twelve months. The core fills the
days and months without usage (``selfservice.daily_series`` and friends).

A reading's consumption belongs to the local day its interval ends in, one
second before its timestamp: the reading at 00:00 closes the previous day.
"""

import datetime
from decimal import Decimal

from odoo.addons.prepaid_energy.tools import timezone
from odoo.tools import SQL, format_date

from prepaid_energy_core import selfservice
from prepaid_energy_core.vocabulary import BAND_LABELS, UTILITY_UNITS

DAYS = 30
MONTHS = 12
#: rounding of the quantities sent to the browser (registers keep 4 decimals)
QUANTITY_DIGITS = 3
LOCAL_DAY = "((%s - interval '1 second') AT TIME ZONE 'UTC' AT TIME ZONE %s)::date"


def _local_day(column, zone):
    return SQL(LOCAL_DAY, SQL.identifier(column), zone)


def usage_by_day(account, meters, since, zone):
    """``{local date: Decimal}`` consumption of ``meters`` while on ``account``."""
    env = account.env
    env["prepaid.reading"].flush_model(["account_id", "meter_id", "state", "timestamp", "delta"])
    rows = env.execute_query(
        SQL(
            "SELECT %s, SUM(delta) FROM prepaid_reading"
            " WHERE account_id = %s AND meter_id = ANY(%s) AND state != 'rejected'"
            " AND timestamp > %s GROUP BY 1",
            _local_day("timestamp", zone),
            account.id,
            meters.ids,
            since,
        )
    )
    return {day: Decimal(str(total or 0)) for day, total in rows}


def charges_by_day_and_band(account, meters, since, zone):
    """``[(local date, band, Decimal quantity, Decimal amount)]`` priced since ``since``."""
    env = account.env
    env["prepaid.charge"].flush_model(
        ["account_id", "meter_id", "date_end", "band", "quantity", "amount"]
    )
    rows = env.execute_query(
        SQL(
            "SELECT %s, band, SUM(quantity), SUM(amount) FROM prepaid_charge"
            " WHERE account_id = %s AND meter_id = ANY(%s) AND date_end > %s GROUP BY 1, 2",
            _local_day("date_end", zone),
            account.id,
            meters.ids,
            since,
        )
    )
    return [
        (day, band or None, Decimal(str(quantity or 0)), Decimal(str(amount or 0)))
        for day, band, quantity, amount in rows
    ]


def _by_month(values_by_day):
    months = {}
    for day, value in values_by_day.items():
        month = selfservice.month_start(day)
        months[month] = months.get(month, Decimal(0)) + value
    return months


def _quantities(values):
    return [round(float(value), QUANTITY_DIGITS) for value in values]


def chart_data(account, meters, today=None):
    """What the account page draws for ``meters`` (one utility) of ``account``.

    Daily usage and cost for 30 days, monthly for 12 months, the split by
    time-of-use band of the last 30 days, and this year's months against last
    year's. ``today``: the site's local date (default: now on the site's clock).
    """
    env = account.env
    zone = account._site_zone()
    today = today or account._portal_local_today()
    first_day = today - datetime.timedelta(days=DAYS - 1)
    first_month = selfservice.add_months(today, 1 - MONTHS)
    history_start = min(datetime.date(today.year - 1, 1, 1), first_month)
    usage = usage_by_day(account, meters, timezone.local_midnight(history_start, zone), zone)
    charges = charges_by_day_and_band(
        account, meters, timezone.local_midnight(first_month, zone), zone
    )
    cost_by_day, band_usage = {}, {}
    for day, band, quantity, amount in charges:
        cost_by_day[day] = cost_by_day.get(day, Decimal(0)) + amount
        if day >= first_day:
            band_usage[band] = band_usage.get(band, Decimal(0)) + quantity
    usage_by_month = _by_month(usage)
    cost_by_month = _by_month(cost_by_day)
    digits = account.currency_id.decimal_places

    def money(values):
        return [round(float(value), digits) for value in values]

    daily = selfservice.daily_series(usage, today, DAYS)
    daily_cost = selfservice.daily_series(cost_by_day, today, DAYS)
    monthly = selfservice.monthly_series(usage_by_month, today, MONTHS)
    monthly_cost = selfservice.monthly_series(cost_by_month, today, MONTHS)
    this_year, last_year = selfservice.year_over_year(usage_by_month, today.year)
    # the labels of the charge's band field, in the reader's language
    band_names = dict(env["prepaid.charge"]._fields["band"]._description_selection(env))
    bands = [band for band, _label in BAND_LABELS if band_usage.get(band)]
    if band_usage.get(None):
        bands.append(None)
    utility = meters[:1].utility
    return {
        "unit": UTILITY_UNITS.get(utility, ""),
        "currency": account.currency_id.symbol,
        "daily": {
            "labels": [format_date(env, day, date_format="MMM d") for day, _v in daily],
            "usage": _quantities(value for _d, value in daily),
            "cost": money(value for _d, value in daily_cost),
        },
        "monthly": {
            "labels": [format_date(env, month, date_format="MMM yy") for month, _v in monthly],
            "usage": _quantities(value for _m, value in monthly),
            "cost": money(value for _m, value in monthly_cost),
        },
        "bands": {
            "labels": [
                band_names.get(band, band) if band else env._("Single rate") for band in bands
            ],
            "usage": _quantities(band_usage[band] for band in bands),
        },
        "years": {
            "labels": [
                format_date(env, datetime.date(today.year, month, 1), date_format="MMM")
                for month in range(1, 13)
            ],
            "this_year": _quantities(this_year),
            "last_year": _quantities(last_year),
            "this_year_label": str(today.year),
            "last_year_label": str(today.year - 1),
        },
    }
