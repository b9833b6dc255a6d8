"""One RS-485 bus behind a local serial port (USB adapter, UART, pseudo-terminal).

Uses pyserial. The port is opened on first use and reopened lazily after any
failure (adapter unplugged, pseudo-terminal closed).
"""

import math
import select
import time

import serial

from ..errors import TransportError, TransportTimeout, ValidationError
from .base import Transport

_PARITIES = {
    "N": serial.PARITY_NONE,
    "E": serial.PARITY_EVEN,
    "O": serial.PARITY_ODD,
    "M": serial.PARITY_MARK,
    "S": serial.PARITY_SPACE,
}
#: a request of a few dozen bytes leaves in well under a second even at 1200 baud;
#: longer means nobody drains the line, and the port is reopened
_WRITE_TIMEOUT = 1.0

try:  # a vanished terminal fails tcflush with termios.error, not OSError
    import termios

    _PORT_ERRORS = (serial.SerialException, OSError, termios.error)
except ImportError:  # not a POSIX system
    _PORT_ERRORS = (serial.SerialException, OSError)


class SerialTransport(Transport):
    """A bus on a serial device path such as ``/dev/ttyUSB0`` or ``/dev/pts/3``.

    ``timeout`` is the default reply deadline of an exchange (seconds from
    the write). DL/T 645 meters usually want ``baudrate=2400, parity="E"``.
    """

    def __init__(self, port, baudrate=9600, parity="N", bytesize=8, stopbits=1, timeout=0.5):
        super().__init__(f"serial://{port}")
        parity = str(parity).upper()
        if parity not in _PARITIES:
            raise ValidationError(f"parity must be one of {', '.join(_PARITIES)}, got {parity!r}")
        self.port = port
        self.baudrate = int(baudrate)
        self.parity = parity
        self.bytesize = int(bytesize)
        self.stopbits = stopbits
        self.default_timeout = timeout
        self._serial = None

    def _open(self):
        try:
            self._serial = serial.Serial(
                self.port,
                baudrate=self.baudrate,
                parity=_PARITIES[self.parity],
                bytesize=self.bytesize,
                stopbits=self.stopbits,
                timeout=0,
                write_timeout=_WRITE_TIMEOUT,
            )
        except (*_PORT_ERRORS, ValueError) as exc:  # termios.error: port setup refused
            raise TransportError(f"{self.name}: cannot open: {exc}") from exc
        return self._serial

    def close(self):
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except _PORT_ERRORS:
                pass

    def _exchange(self, request, frame_length, timeout, expect_reply, check):
        port = self._serial or self._open()
        try:
            self._set_aside_stale(port, frame_length)
            deadline = time.monotonic() + timeout
            port.write(bytes(request))
            self.last_sent_at = time.monotonic()
            if not expect_reply:
                return b""
            return self._read_reply(
                lambda left: self._receive(port, left), frame_length, deadline, check
            )
        except TransportTimeout:
            raise
        except TransportError:
            self.close()
            raise
        except _PORT_ERRORS as exc:
            self.close()
            raise TransportError(f"{self.name}: {exc}") from exc

    def _set_aside_stale(self, port, frame_length):
        """Set aside the frames received since the last exchange (late replies, noise)."""
        stale = bytearray()
        while port.in_waiting:
            stale += port.read(port.in_waiting)
        if stale:
            self._set_aside_frames(stale, frame_length)

    def listen(self, frame_length):
        """Set aside the frames that arrived since the last exchange (no waiting)."""
        with self.lock:
            if self._serial is None:
                return
            try:
                self._set_aside_stale(self._serial, frame_length)
            except _PORT_ERRORS:
                self.close()

    def _receive(self, port, left):
        # Poll the descriptor ourselves: changing pyserial's timeout would
        # reprogram the port (tcsetattr) on every read.
        try:
            poller = select.poll()
            poller.register(port.fileno(), select.POLLIN)
            if not poller.poll(max(1, math.ceil(left * 1000))):
                return b""
            return port.read(port.in_waiting or 1)
        except _PORT_ERRORS as exc:
            raise TransportError(f"{self.name}: read failed: {exc}") from exc

    def __repr__(self):
        return f"SerialTransport({self.port!r}, baudrate={self.baudrate})"
