"""Line losses: master bill against the sub-meters, percentage, flags, cost."""

from decimal import Decimal as D

import pytest

from prepaid_energy_core import losses
from prepaid_energy_core.errors import ValidationError


def test_worked_example_from_the_module():
    # 12,500 - 11,800.5 = 699.5 kWh; 699.5 / 12,500 x 100 = 5.596 -> 5.60 %
    loss = losses.compute("12500", "11800.5")
    assert (loss.master, loss.metered, loss.loss, loss.percent) == (
        D("12500.000"),
        D("11800.500"),
        D("699.500"),
        D("5.60"),
    )
    assert loss.status("5") == losses.HIGH
    assert loss.status("5.60") == losses.OK  # strictly above the threshold flags
    assert loss.status(None) == losses.OK
    # 699.5 kWh at 8,125.00 / 12,500 = 0.65 a kWh: 454.675 -> 454.68
    assert losses.cost(loss.loss, "12500", "8125.00") == D("454.68")


def test_sub_meters_above_the_master_are_a_negative_loss():
    # 1,000 - 1,012.345 = -12.345 kWh, -1.2345 % -> -1.23 %
    loss = losses.compute("1000", "1012.345")
    assert (loss.loss, loss.percent) == (D("-12.345"), D("-1.23"))
    assert loss.status("5") == losses.NEGATIVE


@pytest.mark.parametrize(
    ("master", "metered", "code"),
    [("0", "10", "loss.master_not_positive"), ("100", "-1", "loss.metered_negative")],
)
def test_bad_figures(master, metered, code):
    with pytest.raises(ValidationError) as caught:
        losses.compute(master, metered)
    assert caught.value.code == code
