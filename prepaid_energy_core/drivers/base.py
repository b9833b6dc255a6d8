"""What every meter driver returns and offers, whatever its protocol."""

import dataclasses
import datetime
from decimal import Decimal

#: relay actions a driver may be asked for
RELAY_TRIP = "trip"
RELAY_CLOSE_ALLOWED = "close_allowed"  # the tenant closes it with the meter's button
RELAY_CLOSE = "close"  # direct close
RELAY_KEEP_POWER_ON = "keep_power_on"
RELAY_KEEP_POWER_OFF = "keep_power_off"
RELAY_ACTIONS = (
    RELAY_TRIP,
    RELAY_CLOSE_ALLOWED,
    RELAY_CLOSE,
    RELAY_KEEP_POWER_ON,
    RELAY_KEEP_POWER_OFF,
)

#: time-of-use band names, in the order meters number them (1..4)
TOU_BANDS = ("sharp", "peak", "flat", "valley")


@dataclasses.dataclass(frozen=True)
class MeterReading:
    """One reading of one meter, in engineering units (kWh, V, A, kW, money).

    Fields a meter model does not have stay ``None``; ``bands`` holds only the
    TOU registers the meter has.
    """

    address: str
    timestamp: datetime.datetime
    total_energy: Decimal | None = None
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
