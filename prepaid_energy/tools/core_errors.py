"""Core errors as Odoo errors, one rule for the whole addon.

A core ``ValidationError`` (bad input) becomes Odoo's ``ValidationError``;
any other core error (protocol, transport, a meter's refusal) a
``UserError``. The message is translated from the error's stable code: this
module keeps one literal ``_lt`` template per code of
``prepaid_energy_core.errors.MESSAGES``, with the same placeholders, so that
the translation export finds every sentence. An error without a code (or a
code this table does not know yet) keeps its English text.

    with raise_as_odoo(self.env, where=lambda: self.env._("Tariff %(name)s", name=...)):
        core_tariff.Tariff.from_dict(data)
"""

import contextlib
import logging

from odoo.exceptions import UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from prepaid_energy_core import errors as core_errors

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

#: translatable template of every core error code (English as in the core)
TEMPLATES = {
    "number.not_decimal": _lt("%(what)s must be a Decimal, int or str, not %(type)s"),
    "number.invalid": _lt("%(what)s is not a number: %(value)r"),
    "number.not_finite": _lt("%(what)s must be finite, got %(value)r"),
    "ledger.unknown_kind": _lt("unknown ledger kind %(kind)r; expected one of %(kinds)s"),
    "ledger.must_be_positive": _lt("a %(kind)s line must be positive, got %(amount)s"),
    "ledger.consumption_positive": _lt(
        "a consumption line must be zero or negative, got %(amount)s"
    ),
    "ledger.must_be_negative": _lt("a %(kind)s line must be negative, got %(amount)s"),
    "ledger.must_not_be_zero": _lt("a %(kind)s line must not be zero"),
    "ledger.no_implied_sign": _lt("a %(kind)s has no implied sign: give the signed amount"),
    "ledger.typed_negative": _lt("give the %(kind)s amount as a positive figure, got %(amount)s"),
    "ledger.line_error": _lt("ledger line %(position)s: %(error)s"),
    "ledger.not_a_line": _lt(
        "ledger line %(position)s is not a LedgerLine or (kind, amount) pair: %(line)r"
    ),
    "wallet.thresholds_order": _lt(
        "thresholds must satisfy alarm1 > alarm2 > arrears, got %(higher)s %(high)s not above "
        "%(lower)s %(low)s"
    ),
    "wallet.unknown_level": _lt("unknown alarm level %(level)r"),
    "wallet.alarm_state_keys": _lt("unknown alarm state keys: %(keys)s"),
    "wallet.alarm_state_value": _lt("alarm state %(name)r must be true or false, got %(value)r"),
    "wallet.credit_lowers": _lt("a %(kind)s cannot lower the balance (%(old)s -> %(new)s)"),
    "wallet.debit_raises": _lt("a %(kind)s cannot raise the balance (%(old)s -> %(new)s)"),
    "wallet.recharge_not_positive": _lt("a recharge must be positive, got %(amount)s"),
    "wallet.above_max_balance": _lt(
        "recharge %(amount)s would bring the balance to %(after)s, above the maximum %(maximum)s; "
        "at most %(room)s can be added"
    ),
    "wallet.credit_negative": _lt("%(name)s must not be negative, got %(value)s"),
    "wallet.emergency_flag": _lt("emergency_active must be true or false"),
    "wallet.emergency_zero": _lt("emergency credit cannot be active with a zero amount"),
    "wallet.credit_keys": _lt("unknown credit keys: %(keys)s"),
    "wallet.no_emergency_credit": _lt("no emergency credit is offered on this account"),
    "wallet.emergency_in_use": _lt(
        "emergency credit %(amount)s is already in use; a recharge must repay it before it can be "
        "used again"
    ),
    "policy.bad_thresholds": _lt("thresholds must be a wallet.Thresholds"),
    "policy.bad_credit": _lt("credit must be a wallet.Credit"),
    "policy.relay_state": _lt("relay state must be one of %(states)s, got %(relay)r"),
    "policy.open_reason": _lt("open reason must be one of %(reasons)s or None, got %(reason)r"),
    "policy.not_boolean": _lt("%(name)s must be true or false"),
    "policy.no_cut_date": _lt("no-cut dates must be dates, got %(day)r"),
    "policy.arrears_after_now": _lt("arrears_since %(since)s is after now %(now)s"),
    "policy.grace_negative": _lt("grace period must not be negative, got %(grace)s"),
    "policy.quiet_pair": _lt(
        "quiet hours range %(position)s must be a (start, end) pair, got %(quiet)r"
    ),
    "policy.quiet_times": _lt("quiet hours range %(position)s must hold two times"),
    "policy.quiet_empty": _lt(
        "quiet hours range %(position)s starts and ends at %(time)s: empty or whole day is "
        "ambiguous"
    ),
    "policy.overload_after_now": _lt("overload trip at %(when)s is after now"),
    "policy.overload_delay_negative": _lt("overload reconnect delay must not be negative"),
    "policy.overload_cap": _lt(
        "overload_max_reconnects_per_day must be an integer >= 0, got %(cap)r"
    ),
    "policy.overload_no_trip": _lt("relay open for overload but no overload trip time given"),
    "policy.not_datetime": _lt("%(what)s must be a datetime, got %(value)r"),
    "policy.not_naive": _lt("%(what)s must be naive local time, got %(value)s"),
    "tariff.negative_price": _lt("%(what)s must not be negative: %(price)s"),
    "tariff.segments_overlap": _lt("%(what)s: segments %(first)s and %(second)s overlap"),
    "tariff.schedule_gap": _lt("%(what)s does not cover %(start)s-%(end)s"),
    "tariff.band_without_price": _lt(
        "%(what)s uses band %(band)r but the season gives it no price"
    ),
    "tariff.tier_empty": _lt("%(what)s ends at %(upper)s, not after its start %(lower)s"),
    "tariff.tier_first_start": _lt("%(what)s: tier 1 must start at 0, not %(lower)s"),
    "tariff.tier_after_open_end": _lt(
        "%(what)s: tier %(number)s has no end but tier %(next)s follows"
    ),
    "tariff.tiers_overlap": _lt(
        "%(what)s: tiers %(number)s and %(next)s overlap (tier %(next)s starts at %(lower)s, tier "
        "%(number)s ends at %(upper)s)"
    ),
    "tariff.tiers_gap": _lt(
        "%(what)s: gap between tier %(number)s (ends at %(upper)s) and tier %(next)s (starts at "
        "%(lower)s)"
    ),
    "tariff.last_tier_end": _lt(
        "%(what)s: the last tier must have no end ('to': None), not %(upper)s"
    ),
    "tariff.allowance_digits": _lt(
        "%(what)s: allowance %(allowance)s has more than %(digits)s decimal places"
    ),
    "tariff.versions_same_day": _lt("tariff %(code)r has two versions effective from %(date)s"),
    "tariff.no_version_in_force": _lt(
        "tariff %(code)r has no version in force at %(when)s (the first is effective from "
        "%(first)s)"
    ),
    "calendar.holiday_and_workday": _lt(
        "%(day)s is listed both as a holiday and as a make-up workday"
    ),
    "calendar.workday_not_weekend": _lt(
        "make-up workday %(day)s is a %(weekday)s, not a weekend day"
    ),
    "calendar.no_season": _lt("at least one season is needed"),
    "calendar.seasons_overlap": _lt(
        "seasons %(first)r and %(second)r overlap (both contain %(day)s)"
    ),
    "calendar.seasons_gap": _lt(
        "seasons do not cover the whole year: %(gap)s belongs to no season"
    ),
    "reading.negative_register": _lt(
        "%(where)s: a cumulative register cannot be negative (%(value)s)"
    ),
    "reading.duplicate_timestamp": _lt("duplicate reading timestamp %(timestamp)s"),
    "reading.out_of_order": _lt(
        "readings are not in time order: %(later)s comes after %(earlier)s"
    ),
    "reading.outside_register": _lt(
        "reading at %(timestamp)s: total %(value)s is outside the register range (limit %(limit)s)"
    ),
    "reading.meter_changed": _lt(
        "reading at %(timestamp)s comes from meter %(serial)s but the previous one from "
        "%(previous)s: give the new meter's start reading (replacement_start)"
    ),
    "period.unknown": _lt("unknown invoicing period %(period)r; expected one of %(periods)s"),
    "period.not_a_date": _lt("an invoicing period needs a date, got %(value)r"),
    "apportion.method": _lt("unknown apportionment method %(method)r; expected one of %(methods)s"),
    "apportion.digits": _lt("digits must be an integer >= 0, got %(digits)r"),
    "apportion.weights_type": _lt("weights must be a mapping of key to weight, got %(type)s"),
    "apportion.no_keys": _lt("nothing to apportion to: no keys given"),
    "apportion.total_digits": _lt("total %(total)s has more than %(digits)s decimal places"),
    "apportion.keys_order": _lt(
        "apportionment keys must be mutually comparable (all str or all int) so that ties are "
        "broken in a fixed order"
    ),
    "apportion.weight_negative": _lt("weight of %(key)r must not be negative, got %(value)s"),
    "apportion.percent_sum": _lt("fixed percentages must sum to exactly 100, got %(total)s"),
    "apportion.weights_zero": _lt("all %(method)s weights are zero: nothing to apportion by"),
    "apportion.vacant_policy": _lt(
        "unknown vacant-unit policy %(policy)r; expected one of %(policies)s"
    ),
    "apportion.all_vacant": _lt(
        "every unit is vacant: nobody to apportion to (charge vacant units to the landlord instead)"
    ),
    "apportion.weight_missing": _lt("unit %(key)r has no weight to apportion by"),
    "fee.not_a_date": _lt("%(what)s must be a date, got %(value)r"),
    "fee.unknown_choice": _lt("unknown %(what)s %(value)r; expected one of %(choices)s"),
    "fee.negative": _lt("%(what)s must not be negative, got %(value)s"),
    "fee.area_missing": _lt("a fee per m² needs the unit's area"),
    "fee.quantity_missing": _lt("a fee per unit needs a number of units"),
    "fee.end_before_start": _lt("a fee cannot end (%(end)s) before it starts (%(start)s)"),
    "loss.master_not_positive": _lt("the master quantity must be positive, got %(master)s"),
    "loss.metered_negative": _lt("the metered quantity must not be negative, got %(metered)s"),
    "shift.negative_float": _lt(
        "the opening float of %(channel)s must not be negative, got %(amount)s"
    ),
    "shift.operation": _lt("unknown shift operation %(operation)r; expected one of %(operations)s"),
    "shift.movement_sign": _lt("a %(operation)s of %(amount)s has the wrong sign for a till"),
    "shift.not_counted": _lt("no counted amount for channel %(channel)s"),
    "shift.negative_count": _lt(
        "the counted amount of %(channel)s must not be negative, got %(amount)s"
    ),
    "report.granularity": _lt(
        "unknown report granularity %(granularity)r; expected one of %(granularities)s"
    ),
    "report.not_a_date": _lt("a report period needs a date, got %(value)r"),
    "report.range_order": _lt("the last month %(last)s comes before the first %(first)s"),
    "xlsx.column_kind": _lt("column %(key)s: kind %(kind)r is not one of %(kinds)s"),
    "xlsx.total_not_number": _lt(
        "column %(key)s: only quantities, amounts and counts can be totalled"
    ),
    "xlsx.no_sheet": _lt("a workbook needs at least one sheet"),
    "xlsx.no_column": _lt("sheet %(sheet)s needs at least one column"),
    "xlsx.not_a_date": _lt("column %(key)s: %(value)r is not a date"),
    "xlsx.not_a_number": _lt("column %(key)s: %(value)r is not a number"),
}


def translate_core_error(env, error):
    """The message of core ``error`` in the language of ``env``."""
    template = TEMPLATES.get(error.code) if isinstance(error.code, str) else None
    if template is None:
        return str(error)
    params = {
        name: translate_core_error(env, value)
        if isinstance(value, core_errors.PrepaidEnergyError)
        else value
        for name, value in error.params.items()
    }
    translated = env._(template)  # the template alone: the params are not all text
    try:
        return translated % params
    except (KeyError, TypeError, ValueError):
        # a translation that lost or renamed a placeholder: the English text still helps
        _logger.warning("Bad translation of core error %s in %s", error.code, env.lang)
        return str(error)


def to_odoo_error(env, error, where=None):
    """The Odoo exception for core ``error``; ``where`` (text) says what was being checked."""
    message = translate_core_error(env, error)
    if where:
        message = env._("%(where)s: %(error)s", where=where, error=message)
    if isinstance(error, core_errors.ValidationError):
        return ValidationError(message)
    return UserError(message)


@contextlib.contextmanager
def raise_as_odoo(env, where=None):
    """Turn a core error raised inside the block into the right Odoo error.

    ``where``: a text, or a callable returning one, prefixed to the message
    (a callable is only called when an error occurs: hot paths pay nothing).
    """
    try:
        yield
    except core_errors.PrepaidEnergyError as error:
        prefix = where() if callable(where) else where
        raise to_odoo_error(env, error, prefix) from error
