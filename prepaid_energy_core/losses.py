"""Line losses: the landlord's master meter against the sum of its sub-meters.

The utility bills the landlord for what the master meter counted; the tenants'
sub-meters (and the common-area meters) count less: wiring and transformer
losses, meter error, and energy taken around a meter (bypass, theft). Per
period::

    loss kWh = master kWh - sum of the sub-meters' kWh
    loss %   = loss kWh / master kWh x 100          (half up, 2 decimals)

A few percent is normal for a building's wiring; above the site's threshold
the period is flagged for a look (bypass or theft suspicion). Sub-meters
adding up to more than the master (a negative loss) are flagged too: a
misread master bill, a meter counted twice, or a multiplier set wrong.

Worked example: the master bill says 12,500 kWh, the sub-meters 11,800.5 kWh:
loss 699.5 kWh, 699.5 / 12,500 = 5.596 % -> 5.60 %; with a 5 % threshold,
flagged.
"""

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

from .errors import ValidationError
from .money import quantum, to_decimal

OK = "ok"
HIGH = "high"  # above the threshold: bypass or theft suspicion
NEGATIVE = "negative"  # sub-meters above the master: a reading or set-up error
STATUS_LABELS = (
    (OK, "Within the threshold"),
    (HIGH, "Above the threshold"),
    (NEGATIVE, "Sub-meters above the master"),
)
PERCENT_DIGITS = 2


@dataclasses.dataclass(frozen=True)
class Loss:
    """A period's loss: master and metered quantities, the loss and its percentage."""

    master: Decimal
    metered: Decimal
    loss: Decimal
    percent: Decimal

    def status(self, threshold=None):
        """``ok``, ``high`` (percent strictly above ``threshold``) or ``negative``."""
        if self.loss < 0:
            return NEGATIVE
        if threshold is not None and self.percent > to_decimal(threshold, "threshold"):
            return HIGH
        return OK


def compute(master, metered, digits=3):
    """The loss of a master quantity over the sum of the sub-meters (``digits`` for kWh)."""
    master = to_decimal(master, "master quantity")
    metered = to_decimal(metered, "metered quantity")
    if master <= 0:
        raise ValidationError.of("loss.master_not_positive", master=master)
    if metered < 0:
        raise ValidationError.of("loss.metered_negative", metered=metered)
    step = quantum(digits)
    master = master.quantize(step, rounding=ROUND_HALF_UP)
    metered = metered.quantize(step, rounding=ROUND_HALF_UP)
    loss = master - metered
    percent = (loss * 100 / master).quantize(quantum(PERCENT_DIGITS), rounding=ROUND_HALF_UP)
    return Loss(master=master, metered=metered, loss=loss, percent=percent)


def cost(loss, bill_quantity, bill_amount, digits=2):
    """What ``loss`` (a quantity) cost at the bill's average price (amount / quantity).

    Rounded once, half up: 699.5 kWh of a 12,500 kWh bill of 8,125.00 cost
    699.5 x 8,125.00 / 12,500 = 454.675 -> 454.68.
    """
    loss = to_decimal(loss, "loss")
    bill_quantity = to_decimal(bill_quantity, "bill quantity")
    bill_amount = to_decimal(bill_amount, "bill amount")
    if bill_quantity <= 0:
        raise ValidationError.of("loss.master_not_positive", master=bill_quantity)
    return (loss * bill_amount / bill_quantity).quantize(quantum(digits), rounding=ROUND_HALF_UP)
