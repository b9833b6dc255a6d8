"""Raw bytes to a transparent serial-over-TCP gateway (RS-485 behind a TCP port).

The gateway forwards every byte both ways unchanged, so the meter protocol's
own framing (``frame_length``) tells when a reply is complete. One connection
per bus; it is opened on first use and reopened lazily after any failure.
"""

import socket
import time

from ..errors import TransportError, TransportTimeout
from .base import Transport

#: consecutive timeouts after which the link itself is suspect (half-open TCP)
_TIMEOUTS_BEFORE_RECONNECT = 3
_CHUNK = 4096


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

    def _fresh_socket(self, frame_length):
        """Return a connected socket, what waited on it set aside (late replies).

        A connection the gateway closed meanwhile shows up here as end of
        file; it is replaced at once so the exchange can still go through.
        """
        sock = self._sock or self._connect()
        if self._set_aside_stale(sock, frame_length):
            return sock
        self.close()
        sock = self._connect()
        if not self._set_aside_stale(sock, frame_length):
            self.close()
            raise TransportError(f"{self.name}: the gateway closed the new connection")
        return sock

    def _set_aside_stale(self, sock, frame_length):
        """Set aside the frames already received; False if the link is closed."""
        stale, open_ = self._read_waiting(sock)
        if stale:
            self._set_aside_frames(stale, frame_length)
        return open_

    @staticmethod
    def _read_waiting(sock):
        """(bytes waiting on ``sock``, whether the link is still open), without blocking."""
        sock.setblocking(False)
        data = bytearray()
        while True:
            try:
                chunk = sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                return bytes(data), True
            except OSError:
                return bytes(data), False
            if not chunk:
                return bytes(data), False
            data += chunk

    def listen(self, frame_length):
        """Set aside the frames that arrived since the last exchange (no waiting)."""
        with self.lock:
            if self._sock is not None and not self._set_aside_stale(self._sock, frame_length):
                self.close()

    # -- exchange -----------------------------------------------------------
    def _exchange(self, request, frame_length, timeout, expect_reply, check):
        sock = self._fresh_socket(frame_length)
        deadline = time.monotonic() + timeout
        try:
            self._send_all(sock, bytes(request), deadline)
            self.last_sent_at = time.monotonic()
            if not expect_reply:
                return b""
            reply = self._read_reply(
                lambda left: self._receive(sock, left), frame_length, deadline, check
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

    def __repr__(self):
        return f"TcpTransport({self.host!r}, {self.port})"
