"""What meters counted over a span of time, straight from their readings.

A reading's ``delta`` is the (multiplied) consumption of the interval ending
at it, so the interval belongs to the span holding its end: a span
``(start, end]`` takes the readings after ``start`` up to and including
``end`` (naive UTC). Readings held for review are not counted.
"""

import datetime
from decimal import Decimal

from odoo.tools import SQL, float_repr

from . import timezone

#: register precision of a reading (prepaid.reading.REGISTER_DIGITS)
QUANTITY_DIGITS = 4


def metered_quantities(env, meter_ids, start, end):
    """``{meter id: Decimal}`` consumed by ``meter_ids`` in ``(start, end]``; every meter
    is in the result (0 without readings)."""
    result = {meter_id: Decimal(0) for meter_id in meter_ids}
    if not meter_ids:
        return result
    env["prepaid.reading"].flush_model(["meter_id", "timestamp", "delta", "state"])
    rows = env.execute_query(
        SQL(
            "SELECT meter_id, SUM(delta) FROM prepaid_reading"
            " WHERE meter_id = ANY(%s) AND timestamp > %s AND timestamp <= %s"
            " AND state != 'rejected' GROUP BY meter_id",
            list(meter_ids),
            start,
            end,
        )
    )
    for meter_id, total in rows:
        result[meter_id] = Decimal(float_repr(total or 0.0, QUANTITY_DIGITS))
    return result


def local_span(site, company, first_day, last_day):
    """The days ``first_day`` to ``last_day`` (inclusive) of the site's clock as naive UTC
    ``(start, end)``: midnight starting the first, midnight after the last."""
    zone = timezone.zone_name(site, company)
    return (
        timezone.local_midnight(first_day, zone),
        timezone.local_midnight(last_day + datetime.timedelta(days=1), zone),
    )
