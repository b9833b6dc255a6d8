"""Exceptions shared by every part of the core.

Each carries a message a person can act on: which input, what is wrong, what
was expected. ``str(error)`` is that message, an English sentence.

Errors a user can meet through the addons also carry a stable ``code`` and
its ``params``: the addons translate them from the code (their own table of
translatable templates, one per code of :data:`MESSAGES`), never by parsing
the English text. Raise them with :meth:`PrepaidEnergyError.of`::

    raise ValidationError.of("ledger.must_be_positive", kind=kind, amount=amount)

A param may itself be a core error (an error wrapping another): the addons
translate it too. Errors without a code (programming mistakes, protocol
details) keep ``code = None`` and their English text.
"""

from types import MappingProxyType

#: English template of every stable error code, ``%(name)s`` / ``%(name)r`` placeholders.
#: Codes never change meaning; a new wording keeps the code and its placeholders.
MESSAGES = {
    # -- numbers and money (money.py)
    "number.not_decimal": "%(what)s must be a Decimal, int or str, not %(type)s",
    "number.invalid": "%(what)s is not a number: %(value)r",
    "number.not_finite": "%(what)s must be finite, got %(value)r",
    # -- wallet ledger (wallet.py)
    "ledger.unknown_kind": "unknown ledger kind %(kind)r; expected one of %(kinds)s",
    "ledger.must_be_positive": "a %(kind)s line must be positive, got %(amount)s",
    "ledger.consumption_positive": "a consumption line must be zero or negative, got %(amount)s",
    "ledger.must_be_negative": "a %(kind)s line must be negative, got %(amount)s",
    "ledger.must_not_be_zero": "a %(kind)s line must not be zero",
    "ledger.no_implied_sign": "a %(kind)s has no implied sign: give the signed amount",
    "ledger.typed_negative": "give the %(kind)s amount as a positive figure, got %(amount)s",
    "ledger.line_error": "ledger line %(position)s: %(error)s",
    "ledger.not_a_line": "ledger line %(position)s is not a LedgerLine or (kind, amount) pair: "
    "%(line)r",
    # -- wallet thresholds, alarms, recharges and credit (wallet.py)
    "wallet.thresholds_order": "thresholds must satisfy alarm1 > alarm2 > arrears, got "
    "%(higher)s %(high)s not above %(lower)s %(low)s",
    "wallet.unknown_level": "unknown alarm level %(level)r",
    "wallet.alarm_state_keys": "unknown alarm state keys: %(keys)s",
    "wallet.alarm_state_value": "alarm state %(name)r must be true or false, got %(value)r",
    "wallet.credit_lowers": "a %(kind)s cannot lower the balance (%(old)s -> %(new)s)",
    "wallet.debit_raises": "a %(kind)s cannot raise the balance (%(old)s -> %(new)s)",
    "wallet.recharge_not_positive": "a recharge must be positive, got %(amount)s",
    "wallet.above_max_balance": "recharge %(amount)s would bring the balance to %(after)s, "
    "above the maximum %(maximum)s; at most %(room)s can be added",
    "wallet.credit_negative": "%(name)s must not be negative, got %(value)s",
    "wallet.emergency_flag": "emergency_active must be true or false",
    "wallet.emergency_zero": "emergency credit cannot be active with a zero amount",
    "wallet.credit_keys": "unknown credit keys: %(keys)s",
    "wallet.no_emergency_credit": "no emergency credit is offered on this account",
    "wallet.emergency_in_use": "emergency credit %(amount)s is already in use; a recharge "
    "must repay it before it can be used again",
    # -- disconnection policy inputs (policy.py)
    "policy.bad_thresholds": "thresholds must be a wallet.Thresholds",
    "policy.bad_credit": "credit must be a wallet.Credit",
    "policy.relay_state": "relay state must be one of %(states)s, got %(relay)r",
    "policy.open_reason": "open reason must be one of %(reasons)s or None, got %(reason)r",
    "policy.not_boolean": "%(name)s must be true or false",
    "policy.no_cut_date": "no-cut dates must be dates, got %(day)r",
    "policy.arrears_after_now": "arrears_since %(since)s is after now %(now)s",
    "policy.grace_negative": "grace period must not be negative, got %(grace)s",
    "policy.quiet_pair": "quiet hours range %(position)s must be a (start, end) pair, got "
    "%(quiet)r",
    "policy.quiet_times": "quiet hours range %(position)s must hold two times",
    "policy.quiet_empty": "quiet hours range %(position)s starts and ends at %(time)s: "
    "empty or whole day is ambiguous",
    "policy.overload_after_now": "overload trip at %(when)s is after now",
    "policy.overload_delay_negative": "overload reconnect delay must not be negative",
    "policy.overload_cap": "overload_max_reconnects_per_day must be an integer >= 0, got %(cap)r",
    "policy.overload_no_trip": "relay open for overload but no overload trip time given",
    "policy.not_datetime": "%(what)s must be a datetime, got %(value)r",
    "policy.not_naive": "%(what)s must be naive local time, got %(value)s",
    # -- tariffs (tariff.py): what a tariff form can get wrong
    "tariff.negative_price": "%(what)s must not be negative: %(price)s",
    "tariff.segments_overlap": "%(what)s: segments %(first)s and %(second)s overlap",
    "tariff.schedule_gap": "%(what)s does not cover %(start)s-%(end)s",
    "tariff.band_without_price": "%(what)s uses band %(band)r but the season gives it no price",
    "tariff.tier_empty": "%(what)s ends at %(upper)s, not after its start %(lower)s",
    "tariff.tier_first_start": "%(what)s: tier 1 must start at 0, not %(lower)s",
    "tariff.tier_after_open_end": "%(what)s: tier %(number)s has no end but tier %(next)s follows",
    "tariff.tiers_overlap": "%(what)s: tiers %(number)s and %(next)s overlap (tier %(next)s "
    "starts at %(lower)s, tier %(number)s ends at %(upper)s)",
    "tariff.tiers_gap": "%(what)s: gap between tier %(number)s (ends at %(upper)s) and tier "
    "%(next)s (starts at %(lower)s)",
    "tariff.last_tier_end": "%(what)s: the last tier must have no end ('to': None), not %(upper)s",
    "tariff.allowance_digits": "%(what)s: allowance %(allowance)s has more than %(digits)s "
    "decimal places",
    "tariff.versions_same_day": "tariff %(code)r has two versions effective from %(date)s",
    "tariff.no_version_in_force": "tariff %(code)r has no version in force at %(when)s (the "
    "first is effective from %(first)s)",
    # -- calendars and seasons (calendar.py)
    "calendar.holiday_and_workday": "%(day)s is listed both as a holiday and as a make-up workday",
    "calendar.workday_not_weekend": "make-up workday %(day)s is a %(weekday)s, not a weekend day",
    "calendar.no_season": "at least one season is needed",
    "calendar.seasons_overlap": "seasons %(first)r and %(second)r overlap (both contain %(day)s)",
    "calendar.seasons_gap": "seasons do not cover the whole year: %(gap)s belongs to no season",
    # -- readings (readings.py)
    "reading.negative_register": "%(where)s: a cumulative register cannot be negative (%(value)s)",
    "reading.duplicate_timestamp": "duplicate reading timestamp %(timestamp)s",
    "reading.out_of_order": "readings are not in time order: %(later)s comes after %(earlier)s",
    "reading.outside_register": "reading at %(timestamp)s: total %(value)s is outside the "
    "register range (limit %(limit)s)",
    "reading.meter_changed": "reading at %(timestamp)s comes from meter %(serial)s but the "
    "previous one from %(previous)s: give the new meter's start reading (replacement_start)",
    # -- invoicing periods (periods.py)
    "period.unknown": "unknown invoicing period %(period)r; expected one of %(periods)s",
    "period.not_a_date": "an invoicing period needs a date, got %(value)r",
    # -- apportionment (apportion.py)
    "apportion.method": "unknown apportionment method %(method)r; expected one of %(methods)s",
    "apportion.digits": "digits must be an integer >= 0, got %(digits)r",
    "apportion.weights_type": "weights must be a mapping of key to weight, got %(type)s",
    "apportion.no_keys": "nothing to apportion to: no keys given",
    "apportion.total_digits": "total %(total)s has more than %(digits)s decimal places",
    "apportion.keys_order": "apportionment keys must be mutually comparable (all str or all "
    "int) so that ties are broken in a fixed order",
    "apportion.weight_negative": "weight of %(key)r must not be negative, got %(value)s",
    "apportion.percent_sum": "fixed percentages must sum to exactly 100, got %(total)s",
    "apportion.weights_zero": "all %(method)s weights are zero: nothing to apportion by",
    "apportion.vacant_policy": "unknown vacant-unit policy %(policy)r; expected one of "
    "%(policies)s",
    "apportion.all_vacant": "every unit is vacant: nobody to apportion to (charge vacant units "
    "to the landlord instead)",
    "apportion.weight_missing": "unit %(key)r has no weight to apportion by",
    # -- fee schemes (fees.py)
    "fee.not_a_date": "%(what)s must be a date, got %(value)r",
    "fee.unknown_choice": "unknown %(what)s %(value)r; expected one of %(choices)s",
    "fee.negative": "%(what)s must not be negative, got %(value)s",
    "fee.area_missing": "a fee per m² needs the unit's area",
    "fee.quantity_missing": "a fee per unit needs a number of units",
    "fee.end_before_start": "a fee cannot end (%(end)s) before it starts (%(start)s)",
    # -- line losses (losses.py)
    "loss.master_not_positive": "the master quantity must be positive, got %(master)s",
    "loss.metered_negative": "the metered quantity must not be negative, got %(metered)s",
    # -- cashier shifts (shifts.py)
    "shift.negative_float": "the opening float of %(channel)s must not be negative, got %(amount)s",
    "shift.operation": "unknown shift operation %(operation)r; expected one of %(operations)s",
    "shift.movement_sign": "a %(operation)s of %(amount)s has the wrong sign for a till",
    "shift.not_counted": "no counted amount for channel %(channel)s",
    "shift.negative_count": "the counted amount of %(channel)s must not be negative, got "
    "%(amount)s",
    # -- report arithmetic (reports.py)
    "report.granularity": "unknown report granularity %(granularity)r; expected one of "
    "%(granularities)s",
    "report.not_a_date": "a report period needs a date, got %(value)r",
    "report.range_order": "the last month %(last)s comes before the first %(first)s",
    # -- spreadsheet exports (xlsx.py)
    "xlsx.column_kind": "column %(key)s: kind %(kind)r is not one of %(kinds)s",
    "xlsx.total_not_number": "column %(key)s: only quantities, amounts and counts can be totalled",
    "xlsx.no_sheet": "a workbook needs at least one sheet",
    "xlsx.no_column": "sheet %(sheet)s needs at least one column",
    "xlsx.not_a_date": "column %(key)s: %(value)r is not a date",
    "xlsx.not_a_number": "column %(key)s: %(value)r is not a number",
}


class PrepaidEnergyError(Exception):
    """Base class of every error raised by prepaid_energy_core.

    ``code``: the stable code of :data:`MESSAGES`, or None; ``params``: the
    values its template names.
    """

    code = None
    params = MappingProxyType({})  # read-only: each coded error gets its own dict

    @classmethod
    def of(cls, code, /, **params):
        """The error of ``code``, its message the English template filled with ``params``."""
        error = cls(MESSAGES[code] % params)
        error.code = code
        error.params = params
        return error


class ValidationError(PrepaidEnergyError, ValueError):
    """Input data (a tariff, readings, a policy setting, a file) is not acceptable."""


class ProtocolError(PrepaidEnergyError):
    """Bytes on the wire do not form a valid frame of the expected protocol."""


class ChecksumError(ProtocolError):
    """A frame arrived whole but its checksum (CS, CRC) does not match."""


class MeterRefused(PrepaidEnergyError):
    """The meter answered with an abnormal (exception) reply.

    ``code`` holds the protocol's own error code or bits (not a code of
    :data:`MESSAGES`), ``reason`` the readable meaning.
    """

    def __init__(self, reason, code=None):
        super().__init__(reason if code is None else f"{reason} (code {code!r})")
        self.reason = reason
        self.code = code


class TransportError(PrepaidEnergyError):
    """The link to a gateway or serial port failed (refused, closed, reset)."""


class TransportTimeout(TransportError, TimeoutError):
    """No complete reply arrived before the deadline."""
