"""What every meter driver returns and offers, whatever its protocol."""

import dataclasses
import datetime
from decimal import Decimal

# The words come from the vocabulary. They are re-exported here because the
# addon imported them from drivers.base before the vocabulary existed;
# new code imports them from prepaid_energy_core.vocabulary.
from ..vocabulary import (
    RELAY_ACTIONS,
    RELAY_CLOSE,
    RELAY_CLOSE_ALLOWED,
    RELAY_KEEP_POWER_OFF,
    RELAY_KEEP_POWER_ON,
    RELAY_TRIP,
    TOU_BANDS,
)

__all__ = [
    "RELAY_ACTIONS",
    "RELAY_CLOSE",
    "RELAY_CLOSE_ALLOWED",
    "RELAY_KEEP_POWER_OFF",
    "RELAY_KEEP_POWER_ON",
    "RELAY_TRIP",
    "TOU_BANDS",
    "MeterDriver",
    "MeterReading",
]


@dataclasses.dataclass(frozen=True)
class MeterReading:
    """One reading of one meter, in engineering units (kWh, V, A, kW, money).

    The registers are named as everywhere else (vocabulary.REGISTERS): ``total``
    and ``bands`` keyed by the band names (vocabulary.TOU_BANDS), holding only
    the TOU registers the meter has. Fields a meter model does not have stay
    ``None``. ``timestamp`` is when the host read the meter, aware UTC
    (whatever the meter's own clock says).
    """

    address: str
    timestamp: datetime.datetime
    total: Decimal | None = None
    bands: dict = dataclasses.field(default_factory=dict)
    voltage: Decimal | None = None
    current: Decimal | None = None
    power: Decimal | None = None
    relay_closed: bool | None = None
    balance: Decimal | None = None
    purchase_count: int | None = None


class MeterDriver:
    """Protocol-specific operations on one meter of a bus.

    ``address`` is the meter's bus address as text (Modbus unit id "1".."247",
    DL/T 645 12-digit address). Every method raises MeterRefused when the meter
    answers with an error, ProtocolError on a bad frame and TransportTimeout
    when it does not answer.
    """

    protocol = None
    #: the framing function of the replies on a byte transport (None: not framed here)
    frame_length = None

    def __init__(self, transport, timeout=None):
        self.transport = transport
        self.timeout = timeout

    @staticmethod
    def address_key(address):
        """``address`` spelled as :meth:`reply_source` spells it (for matching)."""
        return str(address)

    @staticmethod
    def reply_source(frame):
        """The address (as address_key gives it) of the meter an intact reply frame
        comes from, None when the frame does not tell. The poller uses it to see
        which late replies prove a timed-out meter alive."""
        return None

    def read(self, address):
        """Return a MeterReading of everything the meter model offers."""
        raise NotImplementedError

    def set_relay(self, address, action, **options):
        """Apply one of RELAY_ACTIONS; return once the meter acknowledged."""
        raise NotImplementedError

    def read_purchase_count(self, address):
        """Return how many credit purchases the meter has applied."""
        raise NotImplementedError

    def push_credit(self, address, amount, purchase_count, **options):
        """Add ``amount`` to the meter's balance as purchase ``purchase_count``.

        The meter refuses a count it already applied (MeterRefused), which is
        what makes a retried push safe.
        """
        raise NotImplementedError

    def sync_time(self, address, when):
        """Set the meter's clock to ``when``."""
        raise NotImplementedError
