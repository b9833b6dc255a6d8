"""Cashier shifts: what each channel of a till should hold at closing, and the difference.

A shift opens with a float (the cash counted into the drawer) and collects,
per channel (cash desk, card terminal, WeChat Pay...), the money of the
documents its cashier books:

* a recharge brings its amount in;
* a refund pays its amount out;
* a reversal undoes a recharge or refund of the same channel (booked by
  mistake): it takes back what that document brought, or gives back what it
  paid out.

Each movement is given with its wallet effect (positive: money came in), so::

    expected = opening float + sum of the movements' amounts
    difference = counted - expected     (positive: surplus; negative: shortage)

Worked example: a cash float of 200.00, recharges of 100.00 and 50.00, a
refund of 30.00 and the reversal of the 50.00 recharge: 200.00 + 100.00 +
50.00 - 30.00 - 50.00 = 270.00 expected; 265.00 counted is a shortage of
5.00.
"""

import dataclasses
from decimal import Decimal

from .errors import ValidationError
from .money import to_decimal
from .vocabulary import RECHARGE, REFUND, REVERSAL

OPERATIONS = (RECHARGE, REFUND, REVERSAL)
ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True)
class ChannelTotals:
    """One channel of a shift: its float, its movements by operation, what it should hold."""

    channel: object
    opening: Decimal = ZERO
    recharges: Decimal = ZERO
    refunds: Decimal = ZERO  # paid out: a positive figure
    reversals: Decimal = ZERO  # signed: a reversed recharge takes money back
    count: int = 0

    @property
    def net(self):
        """What the channel's documents brought in, net of what they paid out."""
        return self.recharges - self.refunds + self.reversals

    @property
    def expected(self):
        return self.opening + self.net


@dataclasses.dataclass(frozen=True)
class ChannelClosing:
    """A channel at closing: what it should hold, what was counted, the difference."""

    channel: object
    expected: Decimal
    counted: Decimal

    @property
    def difference(self):
        return self.counted - self.expected


def totals(movements, openings=None):
    """``{channel: ChannelTotals}`` of ``movements``: ``(channel, operation, amount)``
    with the signed wallet effect as amount; ``openings``: ``{channel: float}``.

    A channel with a float and no movement is listed too.
    """
    openings = {
        channel: to_decimal(value, "opening float") for channel, value in (openings or {}).items()
    }
    for channel, value in openings.items():
        if value < 0:
            raise ValidationError.of("shift.negative_float", channel=channel, amount=value)
    sums = {
        channel: {"opening": value, "recharges": ZERO, "refunds": ZERO, "reversals": ZERO}
        for channel, value in openings.items()
    }
    counts = dict.fromkeys(sums, 0)
    for channel, operation, amount in movements:
        if operation not in OPERATIONS:
            raise ValidationError.of(
                "shift.operation", operation=operation, operations=", ".join(OPERATIONS)
            )
        amount = to_decimal(amount, f"{operation} amount")
        entry = sums.setdefault(
            channel, {"opening": ZERO, "recharges": ZERO, "refunds": ZERO, "reversals": ZERO}
        )
        counts[channel] = counts.get(channel, 0) + 1
        if operation == RECHARGE:
            _check_sign(operation, amount, 1)
            entry["recharges"] += amount
        elif operation == REFUND:
            _check_sign(operation, amount, -1)
            entry["refunds"] -= amount
        else:
            entry["reversals"] += amount
    return {
        channel: ChannelTotals(channel=channel, count=counts[channel], **values)
        for channel, values in sums.items()
    }


def _check_sign(operation, amount, sign):
    if amount * sign <= 0:
        raise ValidationError.of("shift.movement_sign", operation=operation, amount=amount)


def close(channel_totals, counted):
    """``{channel: ChannelClosing}``: each channel's expected amount against ``counted``
    (``{channel: amount}``, a figure for every channel of ``channel_totals``)."""
    missing = [channel for channel in channel_totals if channel not in counted]
    if missing:
        raise ValidationError.of("shift.not_counted", channel=missing[0])
    result = {}
    for channel, channel_total in channel_totals.items():
        value = to_decimal(counted[channel], "counted amount")
        if value < 0:
            raise ValidationError.of("shift.negative_count", channel=channel, amount=value)
        result[channel] = ChannelClosing(channel, channel_total.expected, value)
    return result
