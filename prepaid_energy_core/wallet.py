"""Prepaid wallet arithmetic: ledger balance, alarm levels, notifications, credit.

Everything here is pure and works on ``Decimal`` only; the Odoo addon stores
the results (ledger lines, :class:`AlarmState`, :class:`Credit`) and calls
these functions on every balance change.

Sign convention
---------------
Ledger amounts are **stored signed**: the balance is the plain sum of the
lines. Each kind fixes the sign it may carry (see :data:`KIND_SIGNS`):

* credits, ``> 0``: recharge, transfer_in
* debits, ``< 0``: refund, fee, transfer_out; consumption ``<= 0`` (a period
  with no usage books a zero consumption line rather than none at all)
* either sign, ``!= 0``: adjustment, reversal (a reversal carries the
  opposite sign of the line it reverses), opening (the balance an account
  starts with: prepaid credit or a debt taken over)

:func:`signed_amount` turns the positive figure a person types into the
signed amount to store.

Levels
------
A balance **at or below** a threshold is at that level, like prepaid meters
that cut at zero rather than at minus one cent: with alarm1 20, alarm2 5 and
arrears 0, the balance 20.00 is "alarm1" and 0.00 is "arrears".
"""

import dataclasses
from decimal import Decimal

from .errors import ValidationError
from .money import ZERO, to_decimal

# the words come from the vocabulary (one spelling everywhere); kept here by name
# for the callers that import them from the wallet
from .vocabulary import (  # noqa: F401 (re-exported)
    ADJUSTMENT,
    ALARM1,
    ALARM2,
    ARREARS,
    CONSUMPTION,
    FEE,
    KIND_SIGNS,
    LEDGER_KINDS,
    LEVELS,
    NORMAL,
    OPENING,
    RECHARGE,
    REFUND,
    REVERSAL,
    TRANSFER_IN,
    TRANSFER_OUT,
)

#: the levels a balance can fall to (all but normal), shallowest first
ALARM_LEVELS = LEVELS[1:]


def _check_kind(kind):
    if kind not in KIND_SIGNS:
        raise ValidationError.of("ledger.unknown_kind", kind=kind, kinds=", ".join(LEDGER_KINDS))


# --------------------------------------------------------------------------- ledger


@dataclasses.dataclass(frozen=True)
class LedgerLine:
    """One wallet ledger line: its kind and its signed amount."""

    kind: str
    amount: Decimal

    def __post_init__(self):
        _check_kind(self.kind)
        amount = to_decimal(self.amount, f"{self.kind} amount")
        object.__setattr__(self, "amount", amount)
        check_sign(self.kind, amount)


def check_sign(kind, amount):
    """Raise ValidationError unless ``amount`` carries the sign ``kind`` requires."""
    _check_kind(kind)
    sign = KIND_SIGNS[kind]
    if sign > 0 and amount <= 0:
        raise ValidationError.of("ledger.must_be_positive", kind=kind, amount=amount)
    if sign < 0 and kind == CONSUMPTION and amount > 0:
        raise ValidationError.of("ledger.consumption_positive", amount=amount)
    if sign < 0 and kind != CONSUMPTION and amount >= 0:
        raise ValidationError.of("ledger.must_be_negative", kind=kind, amount=amount)
    if sign == 0 and amount == 0:
        raise ValidationError.of("ledger.must_not_be_zero", kind=kind)


def signed_amount(kind, magnitude):
    """The amount to store for a ``kind`` line of ``magnitude`` (>= 0) typed by a person.

    Only credit and debit kinds have an implied sign; adjustments and
    reversals must be given signed, as :class:`LedgerLine` amounts.
    """
    _check_kind(kind)
    magnitude = to_decimal(magnitude, f"{kind} amount")
    sign = KIND_SIGNS[kind]
    if sign == 0:
        raise ValidationError.of("ledger.no_implied_sign", kind=kind)
    if magnitude < 0:
        raise ValidationError.of("ledger.typed_negative", kind=kind, amount=magnitude)
    amount = magnitude if sign > 0 else -magnitude
    check_sign(kind, amount)
    return amount


def balance(lines):
    """Sum of the signed amounts of ``lines`` (LedgerLine or ``(kind, amount)`` pairs).

    Every line is checked; one bad line raises ValidationError naming its
    position, and no partial sum is returned.
    """
    total = ZERO
    for position, line in enumerate(lines):
        if not isinstance(line, LedgerLine):
            try:
                kind, amount = line
                line = LedgerLine(kind, amount)
            except ValidationError as error:
                raise ValidationError.of(
                    "ledger.line_error", position=position, error=error
                ) from None
            except (TypeError, ValueError):
                raise ValidationError.of(
                    "ledger.not_a_line", position=position, line=line
                ) from None
        total += line.amount
    return total


# --------------------------------------------------------------------------- thresholds


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Alarm thresholds of a wallet: alarm1 > alarm2 > arrears.

    Arrears always applies (default 0). ``alarm1`` and ``alarm2`` may be None:
    that warning level is switched off, as on a site that has not set one up,
    and the order is checked among the levels that are on.
    """

    alarm1: Decimal | None
    alarm2: Decimal | None
    arrears: Decimal = ZERO

    def __post_init__(self):
        for name in ("alarm1", "alarm2", "arrears"):
            value = getattr(self, name)
            if value is None and name != "arrears":
                continue
            object.__setattr__(self, name, to_decimal(value, name))
        enabled = [(name, self.of(name)) for name in self.enabled_levels()]
        for (higher, high), (lower, low) in zip(enabled, enabled[1:]):
            if not high > low:
                raise ValidationError.of(
                    "wallet.thresholds_order", higher=higher, high=high, lower=lower, low=low
                )

    def of(self, level):
        """The threshold of an alarm level (None when that level is off)."""
        if level not in ALARM_LEVELS:
            raise ValidationError.of("wallet.unknown_level", level=level)
        return getattr(self, level)

    def enabled_levels(self):
        """The alarm levels that are on, shallowest first."""
        return tuple(name for name in ALARM_LEVELS if self.of(name) is not None)


def level(balance_, thresholds):
    """The alarm level of a balance: "normal", "alarm1", "alarm2" or "arrears"."""
    for name in reversed(thresholds.enabled_levels()):
        if balance_ <= thresholds.of(name):
            return name
    return NORMAL


# --------------------------------------------------------------------------- notifications


@dataclasses.dataclass(frozen=True)
class AlarmState:
    """Which levels were already notified since the balance last rose above them."""

    alarm1: bool = False
    alarm2: bool = False
    arrears: bool = False

    def to_dict(self):
        """A plain dict (JSON-safe) for storage."""
        return {name: getattr(self, name) for name in ALARM_LEVELS}

    @classmethod
    def from_dict(cls, data):
        """Rebuild a state stored by :meth:`to_dict`; ``None`` or ``{}`` is the fresh state."""
        data = dict(data or {})
        unknown = sorted(set(data) - set(ALARM_LEVELS))
        if unknown:
            raise ValidationError.of("wallet.alarm_state_keys", keys=", ".join(unknown))
        for name, value in data.items():
            if not isinstance(value, bool):
                raise ValidationError.of("wallet.alarm_state_value", name=name, value=value)
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class Notification:
    """A level the tenant must be told about: the balance fell to or below it."""

    level: str
    balance: Decimal
    threshold: Decimal
    cause: str


def _check_cause(cause, old_balance, new_balance):
    """A credit cannot lower the balance and a debit cannot raise it."""
    _check_kind(cause)
    sign = KIND_SIGNS[cause]
    if sign > 0 and new_balance < old_balance:
        raise ValidationError.of(
            "wallet.credit_lowers", kind=cause, old=old_balance, new=new_balance
        )
    if sign < 0 and new_balance > old_balance:
        raise ValidationError.of(
            "wallet.debit_raises", kind=cause, old=old_balance, new=new_balance
        )


def evaluate(state, old_balance, new_balance, cause, thresholds):
    """Advance the alarm state machine over one balance change.

    ``cause`` is the ledger kind that moved the balance. Returns
    ``(new_state, notifications)``:

    * a level is notified once when the balance is at or below it and it was
      not notified yet (so once per downward crossing);
    * when one change crosses several levels (normal straight to arrears),
      only the **deepest** is notified and all crossed levels are marked as
      notified: "in arrears" already says "low balance", and three messages
      at once would be noise;
    * a level's flag resets when the balance is above it again. With fixed
      thresholds only a credit (recharge, transfer in, positive adjustment or
      reversal) can bring it there, so the next fall notifies again.
    """
    old_balance = to_decimal(old_balance, "old balance")
    new_balance = to_decimal(new_balance, "new balance")
    _check_cause(cause, old_balance, new_balance)
    flags = state.to_dict()
    due = []
    for name in thresholds.enabled_levels():
        if new_balance <= thresholds.of(name):
            if not flags[name]:
                due.append(name)
            flags[name] = True
        else:
            flags[name] = False
    notifications = []
    if due:
        deepest = due[-1]
        notifications.append(Notification(deepest, new_balance, thresholds.of(deepest), cause))
    return AlarmState(**flags), notifications


# --------------------------------------------------------------------------- recharge limits


def check_recharge(balance_, amount, max_balance=None):
    """Refuse a recharge that is not positive or would exceed ``max_balance``.

    Returns the balance after the recharge. ``max_balance`` None means no cap.
    """
    balance_ = to_decimal(balance_, "balance")
    amount = to_decimal(amount, "recharge amount")
    if amount <= 0:
        raise ValidationError.of("wallet.recharge_not_positive", amount=amount)
    after = balance_ + amount
    if max_balance is not None:
        max_balance = to_decimal(max_balance, "maximum balance")
        if after > max_balance:
            room = max(max_balance - balance_, ZERO)
            raise ValidationError.of(
                "wallet.above_max_balance",
                amount=amount,
                after=after,
                maximum=max_balance,
                room=room,
            )
    return after


# --------------------------------------------------------------------------- credit


@dataclasses.dataclass(frozen=True)
class Credit:
    """How far below the arrears threshold an account may go before disconnection.

    ``credit_limit`` is a standing allowance. ``emergency_amount`` is a one-off
    advance the tenant may activate; once active it stays in use until a
    recharge (or any credit) lifts the balance above the arrears threshold,
    which repays it and makes it available again.
    """

    credit_limit: Decimal = ZERO
    emergency_amount: Decimal = ZERO
    emergency_active: bool = False

    def __post_init__(self):
        for name in ("credit_limit", "emergency_amount"):
            value = to_decimal(getattr(self, name), name.replace("_", " "))
            if value < 0:
                raise ValidationError.of(
                    "wallet.credit_negative", name=name.replace("_", " "), value=value
                )
            object.__setattr__(self, name, value)
        if not isinstance(self.emergency_active, bool):
            raise ValidationError.of("wallet.emergency_flag")
        if self.emergency_active and self.emergency_amount == 0:
            raise ValidationError.of("wallet.emergency_zero")

    @property
    def emergency_in_use(self):
        """The emergency amount currently lowering the floor (0 when not active)."""
        return self.emergency_amount if self.emergency_active else ZERO

    def to_dict(self):
        """A plain dict (Decimals as strings) for storage."""
        return {
            "credit_limit": str(self.credit_limit),
            "emergency_amount": str(self.emergency_amount),
            "emergency_active": self.emergency_active,
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a Credit stored by :meth:`to_dict`."""
        unknown = sorted(set(data) - {"credit_limit", "emergency_amount", "emergency_active"})
        if unknown:
            raise ValidationError.of("wallet.credit_keys", keys=", ".join(unknown))
        return cls(**data)


NO_CREDIT = Credit()


def disconnect_floor(thresholds, credit=NO_CREDIT):
    """The balance at or below which the account is in arrears for disconnection."""
    return thresholds.arrears - credit.credit_limit - credit.emergency_in_use


def available_credit(balance_, thresholds, credit=NO_CREDIT):
    """What may still be consumed before disconnection (negative once past it)."""
    return to_decimal(balance_, "balance") - disconnect_floor(thresholds, credit)


def is_in_arrears(balance_, thresholds, credit=NO_CREDIT):
    """True when the balance is at or below the disconnection floor."""
    return available_credit(balance_, thresholds, credit) <= 0


def activate_emergency_credit(credit):
    """The tenant activates the emergency advance; returns the new Credit.

    Refused when none is offered or it is already in use (not yet repaid).
    """
    if credit.emergency_amount == 0:
        raise ValidationError.of("wallet.no_emergency_credit")
    if credit.emergency_active:
        raise ValidationError.of("wallet.emergency_in_use", amount=credit.emergency_amount)
    return dataclasses.replace(credit, emergency_active=True)


def settle_emergency_credit(credit, old_balance, new_balance, thresholds):
    """Return the Credit after a balance change.

    The emergency advance is repaid, and available again, when the balance
    rises (a recharge or other credit) to above the arrears threshold. A
    consumption never repays it, even while the balance is still above arrears.
    """
    old_balance = to_decimal(old_balance, "old balance")
    new_balance = to_decimal(new_balance, "new balance")
    if credit.emergency_active and new_balance > old_balance and new_balance > thresholds.arrears:
        return dataclasses.replace(credit, emergency_active=False)
    return credit
