"""State of one simulated prepaid meter.

Protocol responders (DL/T 645, Modbus) read and change this state; the
simulator server advances it in time. All energy is Decimal kWh, all money
Decimal, so a test can compare what a driver read with what the meter holds
to the last digit.
"""

import datetime
import threading
from decimal import Decimal

from ..errors import MeterRefused
from ..vocabulary import (
    RELAY_CLOSE,
    RELAY_CLOSE_ALLOWED,
    RELAY_KEEP_POWER_OFF,
    RELAY_KEEP_POWER_ON,
    RELAY_TRIP,
    TOU_BANDS,
    default_tou_band,
)

HOUR = Decimal(3600)


class SimMeter:
    """One simulated meter.

    ``load_kw`` is the constant load drawn while the relay is closed, or a
    callable ``(datetime) -> Decimal`` for a load profile. ``register_limit``
    is the first value a cumulative register cannot show (rollover to 0).
    With ``meter_billing`` the meter deducts ``price`` per kWh from its own
    ``balance`` and trips itself at zero unless keep-power is on.
    """

    def __init__(
        self,
        address,
        load_kw=Decimal("1.5"),
        total=Decimal("0"),
        tou_band=default_tou_band,
        register_limit=Decimal("1000000"),
        meter_billing=False,
        price=Decimal("1.00"),
        balance=Decimal("0"),
        purchase_count=0,
        max_balance=Decimal("99999.99"),
        voltage=Decimal("230.0"),
        start=None,
    ):
        self.address = str(address)
        self.load_kw = load_kw
        self.tou_band = tou_band
        self.register_limit = Decimal(register_limit)
        self.total = Decimal(total) % self.register_limit
        self.bands = dict.fromkeys(TOU_BANDS, Decimal("0"))
        self.relay_closed = True
        self.close_allowed = False  # tripped, waiting for the tenant's button
        self.keep_power = False
        self.meter_billing = meter_billing
        self.price = Decimal(price)
        self.balance = Decimal(balance)
        self.purchase_count = purchase_count
        self.max_balance = Decimal(max_balance)
        self.voltage = Decimal(voltage)
        self.clock_offset = datetime.timedelta(0)
        self.dead = False  # a dead meter never answers
        self.lock = threading.RLock()
        self.commands_applied = []  # (action, meter time) history, for tests
        self._last = start or datetime.datetime.now()

    # -- time -------------------------------------------------------------
    def meter_time(self, now=None):
        return (now or datetime.datetime.now()) + self.clock_offset

    def set_time(self, when, now=None):
        with self.lock:
            self.clock_offset = when - (now or datetime.datetime.now())

    def current_load(self, when):
        load = self.load_kw(when) if callable(self.load_kw) else self.load_kw
        return Decimal(load) if self.relay_closed else Decimal("0")

    def advance(self, now=None):
        """Accumulate energy from the last update to ``now`` (host time)."""
        now = now or datetime.datetime.now()
        with self.lock:
            if now <= self._last:
                return
            when = self._last + self.clock_offset
            seconds = Decimal(str((now - self._last).total_seconds()))
            self._last = now
            energy = self.current_load(when) * seconds / HOUR
            if not energy:
                return
            self.total = (self.total + energy) % self.register_limit
            band = self.tou_band(when)
            self.bands[band] = (self.bands[band] + energy) % self.register_limit
            if self.meter_billing:
                self.balance -= energy * self.price
                if self.balance <= 0 and not self.keep_power:
                    self.relay_closed = False

    # -- what a protocol reads ----------------------------------------------
    def power_kw(self, now=None):
        now = now or datetime.datetime.now()
        return self.current_load(self.meter_time(now))

    def current_a(self, now=None):
        return self.power_kw(now) * 1000 / self.voltage

    # -- what a protocol commands -------------------------------------------
    def apply_relay(self, action, now=None):
        with self.lock:
            self.advance(now)
            if action == RELAY_TRIP:
                if self.keep_power:
                    raise MeterRefused("keep-power is on: trip refused")
                self.relay_closed = False
                self.close_allowed = False
            elif action == RELAY_CLOSE_ALLOWED:
                self.close_allowed = True
            elif action == RELAY_CLOSE:
                self.relay_closed = True
                self.close_allowed = False
            elif action == RELAY_KEEP_POWER_ON:
                self.keep_power = True
                self.relay_closed = True
            elif action == RELAY_KEEP_POWER_OFF:
                self.keep_power = False
            else:
                raise MeterRefused(f"unknown relay action {action!r}")
            self.commands_applied.append((action, self.meter_time(now)))

    def press_button(self, now=None):
        """The tenant presses the meter's button: closes a relay allowed to close."""
        with self.lock:
            self.advance(now)
            if self.close_allowed:
                self.relay_closed = True
                self.close_allowed = False

    def apply_credit(self, amount, purchase_count, now=None):
        """Add credit as purchase number ``purchase_count`` (must be count + 1)."""
        amount = Decimal(amount)
        with self.lock:
            self.advance(now)
            if purchase_count != self.purchase_count + 1:
                raise MeterRefused(
                    f"purchase count {purchase_count} refused, meter is at {self.purchase_count}",
                    code="purchase_count",
                )
            if amount <= 0:
                raise MeterRefused("credit amount must be positive", code="amount")
            if self.balance + amount > self.max_balance:
                raise MeterRefused(
                    "credit would exceed the meter's maximum balance", code="max_balance"
                )
            self.balance += amount
            self.purchase_count = purchase_count
            self.commands_applied.append(("credit", self.meter_time(now)))
            if self.meter_billing and self.balance > 0 and not self.relay_closed:
                self.close_allowed = True
