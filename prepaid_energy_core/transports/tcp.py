"""Raw bytes to a transparent serial-over-TCP gateway (RS-485 behind a TCP port).

The gateway forwards every byte both ways unchanged, so the meter protocol's
own framing (``frame_length``) tells when a reply is complete. One connection
per bus; it is opened on first use and reopened lazily after any failure.
"""

import socket
import time

from ..errors import ProtocolError, TransportError, TransportTimeout
from .base import Transport

#: how long a garbled reply may keep trickling in before we give up draining it
_DRAIN_QUIET = 0.02
#: consecutive timeouts after which the link itself is suspect (half-open TCP)
_TIMEOUTS_BEFORE_RECONNECT = 3
_CHUNK = 4096


def read_frame(receive, frame_length, deadline, drain):
    """Read bytes with ``receive(seconds_left)`` until one frame is complete.

    ``receive`` returns the bytes available (at least one) or ``b""`` when
    nothing arrived before its time ran out; it raises TransportError when the
    link failed. Bytes after the frame are dropped (they can only be noise or
    a late reply). On bytes that can never become a frame, ``drain`` is called
    so the rest of the garbage does not pollute the next exchange, then the
    ProtocolError propagates.
    """
    buffer = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TransportTimeout(_timeout_message(buffer))
        chunk = receive(left)
        if not chunk:
            continue
        buffer += chunk
        try:
            length = frame_length(bytes(buffer))
        except ProtocolError:
            drain(deadline)
            raise
        if length is not None and length <= len(buffer):
            return bytes(buffer[:length])


def _timeout_message(buffer):
    if not buffer:
        return "no reply before the deadline"
    return f"incomplete reply before the deadline ({len(buffer)} bytes: {bytes(buffer[:32]).hex()})"


class TcpTransport(Transport):
    """One bus behind a transparent TCP gateway.

    ``timeout`` is the default reply deadline of an exchange (seconds from
    the write), ``connect_timeout`` the limit for opening the connection.
    """

    def __init__(self, host, port, timeout=0.5, connect_timeout=1.0, name=None):
        super().__init__(name or f"tcp://{host}:{port}")
        self.host = host
        self.port = int(port)
        self.default_timeout = timeout
        self.connect_timeout = connect_timeout
        self._sock = None
        self._timeouts_in_a_row = 0

    # -- connection ---------------------------------------------------------
    def _connect(self):
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise TransportError(f"{self.name}: cannot connect: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._timeouts_in_a_row = 0
        return sock

    def close(self):
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def _fresh_socket(self):
        """Return a connected socket with no stale input waiting on it.

        A connection the gateway closed meanwhile shows up here as end of
        file; it is replaced at once so the exchange can still go through.
        """
        sock = self._sock or self._connect()
        if self._discard_stale(sock):
            return sock
        self.close()
        sock = self._connect()
        if not self._discard_stale(sock):
            self.close()
            raise TransportError(f"{self.name}: the gateway closed the new connection")
        return sock

    @staticmethod
    def _discard_stale(sock):
        """Drop bytes already received (late replies, noise); False if the link is closed."""
        sock.setblocking(False)
        while True:
            try:
                data = sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                return False
            if not data:
                return False

    # -- exchange -----------------------------------------------------------
    def _exchange(self, request, frame_length, timeout, expect_reply):
        sock = self._fresh_socket()
        deadline = time.monotonic() + timeout
        try:
            self._send_all(sock, bytes(request), deadline)
            if not expect_reply:
                return b""
            reply = read_frame(
                lambda left: self._receive(sock, left),
                frame_length,
                deadline,
                lambda until: self._drain(sock, until),
            )
        except TransportTimeout:
            self._count_timeout()
            raise
        except TransportError:
            self.close()
            raise
        self._timeouts_in_a_row = 0
        return reply

    def _count_timeout(self):
        # A dead meter times out while the link is fine; several timeouts in a
        # row may also mean a half-open connection, which a reconnect cures.
        self._timeouts_in_a_row += 1
        if self._timeouts_in_a_row >= _TIMEOUTS_BEFORE_RECONNECT:
            self.close()

    def _send_all(self, sock, data, deadline):
        left = deadline - time.monotonic()
        try:
            sock.settimeout(max(left, 0.001))
            sock.sendall(data)
        except TimeoutError as exc:
            # a stalled link, and maybe half a frame sent: start afresh next time
            raise TransportError(f"{self.name}: could not write before the deadline") from exc
        except OSError as exc:
            raise TransportError(f"{self.name}: write failed: {exc}") from exc

    def _receive(self, sock, left):
        try:
            sock.settimeout(left)
            data = sock.recv(_CHUNK)
        except TimeoutError:
            return b""
        except InterruptedError:
            return b""
        except OSError as exc:
            raise TransportError(f"{self.name}: read failed: {exc}") from exc
        if not data:
            raise TransportError(f"{self.name}: the gateway closed the connection")
        return data

    def _drain(self, sock, deadline):
        """Swallow bytes until the line has been quiet a moment (or the deadline)."""
        while True:
            left = min(deadline - time.monotonic(), _DRAIN_QUIET)
            if left <= 0:
                return
            try:
                if not self._receive(sock, left):
                    return
            except TransportError:
                self.close()
                return

    def __repr__(self):
        return f"TcpTransport({self.host!r}, {self.port})"
