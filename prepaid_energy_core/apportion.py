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
