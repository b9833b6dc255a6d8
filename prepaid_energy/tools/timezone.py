"""One time-zone rule for the addon: the site's clock, else the company's, never the user's.

Invoicing periods, their boundaries and the times shown to tenants must not
depend on who runs the job or reads the message: they follow the site's time
zone, or when the site has none (an account without a unit) the zone of the
company's partner, else UTC. Odoo stores naive UTC datetimes; these helpers
convert between them and the site's wall clock.
"""

import datetime

import pytz
from odoo.tools import format_datetime

UTC = "UTC"


def zone_name(site=None, company=None):
    """The time zone of ``site``, else of ``company`` (its partner), else UTC.

    ``company`` defaults to the site's. Either may be an empty recordset.
    """
    if site and site.tz:
        return site.tz
    company = company or (site.company_id if site else None)
    return (company.partner_id.tz if company else None) or UTC


def to_local(moment, zone):
    """Odoo's naive UTC ``moment`` as the naive wall-clock time of ``zone``."""
    return pytz.utc.localize(moment).astimezone(pytz.timezone(zone)).replace(tzinfo=None)


def to_utc(local, zone):
    """A naive wall-clock time of ``zone`` as Odoo's naive UTC.

    An ambiguous time (the hour repeated when clocks go back) is taken in
    standard time; a time skipped by a clock change moves forward with it.
    """
    tz = pytz.timezone(zone)
    return tz.normalize(tz.localize(local, is_dst=False)).astimezone(pytz.utc).replace(tzinfo=None)


def local_midnight(day, zone):
    """Midnight starting the date ``day`` in ``zone``, as naive UTC (a period boundary)."""
    return to_utc(datetime.datetime.combine(day, datetime.time.min), zone)


def local_date(moment, zone):
    """The date in ``zone`` of the naive UTC ``moment``."""
    return to_local(moment, zone).date()


def local_days(start, end, zone):
    """First and last local day of the span ``[start, end)`` (naive UTC datetimes).

    A span ending exactly at local midnight ends on the day before: consumption
    metered up to 00:00 on 1 February is January's.
    """
    first = to_local(start, zone)
    last = to_local(end, zone)
    if last > first and last.time() == datetime.time.min:
        last -= datetime.timedelta(microseconds=1)
    return first.date(), last.date()


def format_local(env, moment, zone, dt_format="short"):
    """``moment`` (naive UTC) as text in the language of ``env``, on the clock of ``zone``."""
    return format_datetime(env, moment, tz=zone, dt_format=dt_format)
