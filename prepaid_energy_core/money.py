"""Decimal money helpers: no float ever touches an amount.

``to_decimal`` refuses floats on purpose: a float price is already wrong
(0.1 + 0.2 != 0.3), so callers must pass str, int or Decimal.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0")


def to_decimal(value, what="value"):
    """Return ``value`` as a finite Decimal; raise ValidationError otherwise."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or isinstance(value, float):
        raise ValidationError.of("number.not_decimal", what=what, type=type(value).__name__)
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValidationError.of("number.invalid", what=what, value=value) from None
    else:
        raise ValidationError.of("number.not_decimal", what=what, type=type(value).__name__)
    if not result.is_finite():
        raise ValidationError.of("number.not_finite", what=what, value=value)
    return result


def quantum(digits):
    """The Decimal step of ``digits`` decimal places (2 -> 0.01)."""
    return Decimal(1).scaleb(-digits)


def round_money(amount, digits=2, rounding=ROUND_HALF_UP):
    """Round an amount to ``digits`` places with an explicit rounding mode."""
    return amount.quantize(quantum(digits), rounding=rounding)


class RoundingCarry:
    """Rounds a stream of exact amounts so that no cent is lost or invented.

    Each call to :meth:`round` returns the rounded amount to book, and keeps
    the difference between the exact and the booked amount as a remainder that
    is added to the next amount. After any number of calls, the sum of the
    booked amounts equals the rounded sum of the exact amounts (to within half
    a unit of the last place, carried in :attr:`remainder`).
    """

    __slots__ = ("digits", "remainder", "rounding")

    def __init__(self, digits=2, remainder=ZERO, rounding=ROUND_HALF_UP):
        self.digits = digits
        self.remainder = remainder
        self.rounding = rounding

    def round(self, exact):
        total = exact + self.remainder
        booked = round_money(total, self.digits, self.rounding)
        self.remainder = total - booked
        return booked


def plain(number):
    """``number`` (Decimal, int or str) as plain digits: no exponent, no trailing zeros.

    ``Decimal("5E+1")`` is "50", ``Decimal("61.822100")`` is "61.8221": what a
    person reads on a label, where ``str(Decimal.normalize())`` would print 5E+1.
    """
    value = to_decimal(number, "number").normalize()
    text = format(value, "f")
    return "0" if text in ("-0", "0") else text
