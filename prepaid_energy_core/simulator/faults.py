"""Deterministic fault injection for the simulated gateways.

A FaultPlan is a list of FaultRules and a seed. Two kinds of rules:

- reply faults, decided per request: ``lost`` (the request never reaches the
  meter: nothing is applied, nothing answers), ``timeout`` (the meter acts
  but its reply is lost), ``late`` (the meter acts and answers, but ``param``
  seconds later than it should: after a short poller timeout its reply
  arrives while the poller waits for the next meter), ``crc`` (the
  reply's checksum byte is corrupted), ``garble`` (random bytes instead of the
  reply), ``truncate`` (only the first part of the reply), ``restart`` (the
  gateway drops every connection and ignores the bus for ``param`` seconds);
- meter faults, applied once to the meters of a gateway: ``dead`` (the meter
  never answers) and ``rollover`` (its registers are set ``param`` kWh below
  ``register_limit`` so they wrap soon).

A rule fires on "every Nth" request (or meter) or with a probability drawn
from the plan's seeded generator, optionally for one meter address only.
Textual form, as given on the simulator's command line::

    KIND=TRIGGER[:PARAM][@METER]    TRIGGER = probability (0..1) or every:N

e.g. ``dead=0.02``, ``crc=every:10@3``, ``restart=every:500:2.5``, ``late=0.01:0.8``.
"""

import dataclasses
import random
from decimal import Decimal, InvalidOperation

from ..errors import ValidationError

REPLY_FAULTS = ("restart", "lost", "timeout", "late", "truncate", "garble", "crc")  # by priority
METER_FAULTS = ("dead", "rollover")
FAULT_KINDS = REPLY_FAULTS + METER_FAULTS

DEFAULT_RESTART_SECONDS = 1.0
DEFAULT_LATE_SECONDS = 1.0
DEFAULT_ROLLOVER_MARGIN = Decimal("0.05")


@dataclasses.dataclass
class FaultRule:
    """One kind of fault and when it fires.

    Exactly one of ``probability`` (0..1) and ``every`` (N >= 1) is set.
    ``meter`` restricts the rule to one meter address (text). ``param`` is
    the restart duration or the extra delay of a late reply in seconds, or
    the rollover margin in kWh.
    """

    kind: str
    probability: float | None = None
    every: int | None = None
    meter: str | None = None
    param: float | Decimal | None = None
    seen: int = dataclasses.field(default=0, compare=False)

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValidationError(
                f"unknown fault {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        if (self.probability is None) == (self.every is None):
            raise ValidationError(f"fault {self.kind!r}: give either a probability or every=N")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValidationError(
                f"fault {self.kind!r}: probability must be within 0..1, got {self.probability}"
            )
        if self.every is not None and (not isinstance(self.every, int) or self.every < 1):
            raise ValidationError(f"fault {self.kind!r}: every must be an integer >= 1")
        if self.meter is not None:
            self.meter = str(self.meter)
        if self.param is None:
            self.param = self._default_param()
        elif self.kind == "rollover":
            self.param = Decimal(str(self.param))
        if self.param is not None and self.param < 0:
            raise ValidationError(f"fault {self.kind!r}: parameter must not be negative")

    def _default_param(self):
        if self.kind == "restart":
            return DEFAULT_RESTART_SECONDS
        if self.kind == "late":
            return DEFAULT_LATE_SECONDS
        if self.kind == "rollover":
            return DEFAULT_ROLLOVER_MARGIN
        return None

    def applies_to(self, address):
        return self.meter is None or self.meter == address

    def fires(self, rng):
        """Count one more occurrence and say whether the fault fires on it."""
        self.seen += 1
        draw = rng.random()  # drawn always, so the sequence does not depend on the trigger kind
        if self.every is not None:
            return self.seen % self.every == 0
        return draw < self.probability

    @classmethod
    def parse(cls, text):
        """Build a rule from ``KIND=TRIGGER[:PARAM][@METER]`` (see the module doc)."""
        spec = text.strip()
        kind, sep, value = spec.partition("=")
        if not sep or not value:
            raise ValidationError(f"fault {text!r}: expected KIND=TRIGGER, e.g. dead=0.02")
        value, _, meter = value.partition("@")
        every = probability = param = None
        parts = value.split(":")
        try:
            if parts[0] == "every":
                if len(parts) < 2:
                    raise ValidationError(f"fault {text!r}: every needs a count, e.g. every:10")
                every = int(parts[1])
                rest = parts[2:]
            else:
                probability = float(parts[0])
                rest = parts[1:]
            if len(rest) > 1:
                raise ValidationError(f"fault {text!r}: too many ':' parts")
            if rest:
                param = Decimal(rest[0]) if kind == "rollover" else float(rest[0])
        except (ValueError, InvalidOperation) as exc:
            raise ValidationError(f"fault {text!r}: {exc}") from exc
        return cls(kind.strip(), probability, every, meter or None, param)


class FaultPlan:
    """The faults of one gateway, reproducible from ``seed``."""

    def __init__(self, rules=(), seed=0):
        self.rules = [FaultRule.parse(r) if isinstance(r, str) else r for r in rules]
        self.seed = seed
        self.rng = random.Random(seed)
        self.injected = dict.fromkeys(FAULT_KINDS, 0)

    @classmethod
    def parse(cls, specs, seed=0):
        return cls([FaultRule.parse(s) for s in specs], seed)

    def copy(self, seed):
        """The same rules with fresh counters and another seed (one plan per gateway)."""
        rules = [dataclasses.replace(r, seen=0) for r in self.rules]
        return FaultPlan(rules, seed)

    def kinds(self):
        return {r.kind for r in self.rules}

    def __bool__(self):
        return bool(self.rules)

    # -- meter faults ---------------------------------------------------------
    def apply_to_meters(self, meters):
        """Make chosen meters dead or nearly rolled over; return {address: [kinds]}."""
        applied = {}
        for meter in meters:
            for rule in self.rules:
                if rule.kind in METER_FAULTS and rule.applies_to(meter.address):
                    if rule.fires(self.rng):
                        _apply_meter_fault(meter, rule)
                        self.injected[rule.kind] += 1
                        applied.setdefault(meter.address, []).append(rule.kind)
        return applied

    # -- reply faults ---------------------------------------------------------
    def decide(self, address):
        """The reply fault to inject on this request to ``address`` (or None).

        Every matching rule counts the request, so "every Nth" stays exact
        even when a higher-priority fault wins.
        """
        fired = [
            rule
            for rule in self.rules
            if rule.kind in REPLY_FAULTS and rule.applies_to(address) and rule.fires(self.rng)
        ]
        if not fired:
            return None
        chosen = min(fired, key=lambda rule: REPLY_FAULTS.index(rule.kind))
        self.injected[chosen.kind] += 1
        return chosen

    def damage(self, kind, reply, checksum_index):
        """Return ``reply`` as the fault ``kind`` leaves it (None: nothing arrives)."""
        if kind in ("lost", "timeout", "restart"):
            return None
        if kind == "late":  # whole, only delayed (the gateway holds it back)
            return reply
        if kind == "truncate":
            return truncate(reply, self.rng)
        if kind == "garble":
            return garble(reply, self.rng)
        if kind == "crc":
            return corrupt_checksum(reply, checksum_index)
        raise ValidationError(f"{kind!r} is not a reply fault")


def truncate(reply, rng):
    """The first 1..len-1 bytes of the reply: the rest was lost on the line."""
    if len(reply) < 2:
        return b""
    return reply[: rng.randint(1, len(reply) - 1)]


def garble(reply, rng):
    """Random bytes of the reply's length (line noise), never the reply itself."""
    noise = bytes(rng.getrandbits(8) for _ in range(len(reply)))
    if noise == reply:
        noise = bytes([noise[0] ^ 0xFF]) + noise[1:]
    return noise


def corrupt_checksum(reply, checksum_index):
    """Flip every bit of the checksum byte at ``checksum_index``: a sure mismatch."""
    if checksum_index is None:
        raise ValidationError("this protocol has no checksum to corrupt")
    damaged = bytearray(reply)
    damaged[checksum_index] ^= 0xFF
    return bytes(damaged)


def roll_over(meter, margin=DEFAULT_ROLLOVER_MARGIN):
    """Set the meter's total and current-band registers ``margin`` kWh below the limit."""
    with meter.lock:
        meter.advance()
        near_limit = meter.register_limit - Decimal(margin)
        meter.total = near_limit
        band = meter.tou_band(meter.meter_time())
        meter.bands[band] = near_limit


def _apply_meter_fault(meter, rule):
    if rule.kind == "dead":
        meter.dead = True
    else:
        roll_over(meter, rule.param)
