"""Split a common-area total (kWh or money) among units.

Shares are computed exactly (fractions), then rounded by the largest
remainder method: every part first gets its share truncated toward zero to
``digits`` places, and the quanta still missing go one each to the parts with
the largest remainders. The parts therefore sum exactly to the total and each
lies within one quantum of its exact share. A negative total (a credit) is
split as its absolute value and negated, so credits round like charges.

Tie-breaking
------------
Equal remainders are served in ascending key order (``sorted(keys)``), so the
result does not depend on the order the mapping was built in. Keys must
therefore be mutually comparable (all str, or all int...).
"""

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from .errors import ValidationError
from .money import quantum, to_decimal

AREA = "area"
CONSUMPTION = "consumption"
EQUAL = "equal"
FIXED_PERCENT = "fixed_percent"
METHODS = (AREA, CONSUMPTION, EQUAL, FIXED_PERCENT)

_HUNDRED = Decimal(100)


def apportion(total, weights, method, digits=2):
    """Split ``total`` among the keys of ``weights``; returns ``{key: Decimal}``.

    ``method``:

    * "area": weights are unit areas (m²);
    * "consumption": weights are the units' own consumption;
    * "equal": one equal part per key, the weight values are ignored;
    * "fixed_percent": weights are percentages summing to exactly 100.

    The result keeps the keys in the order of ``weights`` and every part is
    quantized to ``digits`` places (2 for money, 3 for kWh).
    """
    if method not in METHODS:
        raise ValidationError.of("apportion.method", method=method, methods=", ".join(METHODS))
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 0:
        raise ValidationError.of("apportion.digits", digits=digits)
    if not isinstance(weights, Mapping):
        raise ValidationError.of("apportion.weights_type", type=type(weights).__name__)
    if not weights:
        raise ValidationError.of("apportion.no_keys")
    step = quantum(digits)
    total = to_decimal(total, "total")
    if total != total.quantize(step):
        raise ValidationError.of("apportion.total_digits", total=total, digits=digits)
    order = _tie_order(weights)
    shares = _shares(weights, method)
    quanta = _largest_remainder(int(abs(total).scaleb(digits)), shares, order)
    sign = -1 if total < 0 else 1
    return {key: (sign * quanta[key] * step).quantize(step) for key in weights}


def _tie_order(weights):
    """Rank of each key in ascending key order (smaller rank wins a tie)."""
    try:
        ordered = sorted(weights)
    except TypeError:
        raise ValidationError.of("apportion.keys_order") from None
    return {key: rank for rank, key in enumerate(ordered)}


def _shares(weights, method):
    """Each key's exact fraction of the total (the fractions sum to 1)."""
    if method == EQUAL:
        return {key: Fraction(1, len(weights)) for key in weights}
    values = {key: to_decimal(weight, f"weight of {key!r}") for key, weight in weights.items()}
    for key, value in values.items():
        if value < 0:
            raise ValidationError.of("apportion.weight_negative", key=key, value=value)
    weight_sum = sum(values.values())
    if method == FIXED_PERCENT:
        if weight_sum != _HUNDRED:
            raise ValidationError.of("apportion.percent_sum", total=weight_sum)
    elif weight_sum == 0:
        raise ValidationError.of("apportion.weights_zero", method=method)
    divisor = Fraction(weight_sum)
    return {key: Fraction(value) / divisor for key, value in values.items()}


def _largest_remainder(total_quanta, shares, order):
    """Integer quanta per key summing to ``total_quanta``, by largest remainder."""
    exact = {key: total_quanta * share for key, share in shares.items()}
    floors = {key: value.numerator // value.denominator for key, value in exact.items()}
    missing = total_quanta - sum(floors.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), order[key]))
    for key in by_remainder[:missing]:
        floors[key] += 1
    return floors


# --------------------------------------------------------------------------- units of a site

#: what happens to a vacant unit's share of a common area
SKIP = "skip"  # the occupied units share the whole total
LANDLORD = "landlord"  # the vacant unit keeps its share, paid by the landlord
VACANT_POLICIES = (SKIP, LANDLORD)
VACANT_POLICY_LABELS = (
    (SKIP, "Skipped (occupied units share it all)"),
    (LANDLORD, "Charged to the landlord"),
)
METHOD_LABELS = (
    (AREA, "By area"),
    (CONSUMPTION, "By consumption share"),
    (EQUAL, "Equally"),
    (FIXED_PERCENT, "Fixed percentages"),
)
_PERCENT_DIGITS = 4


@dataclasses.dataclass(frozen=True)
class Participant:
    """A unit taking part in a split: its weight (area, consumption, percentage;
    ignored by "equal") and whether a tenant occupies it."""

    weight: Decimal | None = None
    occupied: bool = True


@dataclasses.dataclass(frozen=True)
class ShareLine:
    """One unit's line of a statement.

    ``percent``: its exact share of the total, for reading (4 decimals);
    ``quantity``/``amount``: its parts (``quantity`` None when no quantity was
    split); ``landlord``: a vacant unit whose share the landlord pays;
    ``skipped``: a vacant unit left out (its parts are zero).
    """

    key: object
    weight: Decimal | None
    percent: Decimal
    quantity: Decimal | None
    amount: Decimal
    occupied: bool
    landlord: bool
    skipped: bool


@dataclasses.dataclass(frozen=True)
class Statement:
    """A whole split: the method, the master figures and each unit's line."""

    method: str
    vacant: str
    quantity: Decimal | None
    amount: Decimal
    lines: tuple

    @property
    def tenants_amount(self):
        return sum((line.amount for line in self.lines if line.occupied), Decimal(0))

    @property
    def landlord_amount(self):
        return sum((line.amount for line in self.lines if line.landlord), Decimal(0))

    def line(self, key):
        return next(line for line in self.lines if line.key == key)


def apportion_units(
    participants, method, amount, quantity=None, vacant=SKIP, amount_digits=2, quantity_digits=3
):
    """Split a common area's ``amount`` (money) and ``quantity`` (kWh, m³; optional)
    among ``participants`` (``{key: Participant}``) by ``method``.

    Vacant units are left out (``vacant="skip"``: the occupied units share
    everything, fixed percentages then count as weights among them) or keep
    their share, paid by the landlord (``"landlord"``). Both figures are
    split with the same weights, each by :func:`apportion`, so each sums
    exactly to its master figure.
    """
    if vacant not in VACANT_POLICIES:
        raise ValidationError.of(
            "apportion.vacant_policy", policy=vacant, policies=", ".join(VACANT_POLICIES)
        )
    if method not in METHODS:
        raise ValidationError.of("apportion.method", method=method, methods=", ".join(METHODS))
    if not isinstance(participants, Mapping) or not participants:
        raise ValidationError.of("apportion.no_keys")
    sharing = {
        key: participant
        for key, participant in participants.items()
        if participant.occupied or vacant == LANDLORD
    }
    if not sharing:
        raise ValidationError.of("apportion.all_vacant")
    split_method = method
    if method == FIXED_PERCENT and len(sharing) < len(participants):
        split_method = AREA  # the remaining percentages, in proportion
    weights = {
        key: (None if method == EQUAL else participant.weight)
        for key, participant in sharing.items()
    }
    if method != EQUAL:
        missing = [key for key, weight in weights.items() if weight is None]
        if missing:
            raise ValidationError.of("apportion.weight_missing", key=missing[0])
    amounts = apportion(amount, weights, split_method, amount_digits)
    quantities = (
        apportion(quantity, weights, split_method, quantity_digits)
        if quantity is not None
        else None
    )
    exact = _shares(weights, split_method)
    lines = []
    for key, participant in participants.items():
        takes_part = key in sharing
        zero_quantity = None if quantity is None else quantum(quantity_digits) * 0
        lines.append(
            ShareLine(
                key=key,
                weight=participant.weight,
                percent=_percent(exact[key]) if takes_part else Decimal(0),
                quantity=quantities[key] if takes_part and quantities else zero_quantity,
                amount=amounts[key] if takes_part else quantum(amount_digits) * 0,
                occupied=participant.occupied,
                landlord=takes_part and not participant.occupied,
                skipped=not takes_part,
            )
        )
    return Statement(
        method=method,
        vacant=vacant,
        quantity=None if quantity is None else to_decimal(quantity, "quantity"),
        amount=to_decimal(amount, "amount"),
        lines=tuple(lines),
    )


def _percent(share):
    """An exact fraction of 1 as a percentage rounded half up to 4 decimals (for reading)."""
    scaled = share * 100 * 10**_PERCENT_DIGITS
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-_PERCENT_DIGITS)
