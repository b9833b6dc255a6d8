"""TcpTransport and SerialTransport against the simulator's gateways.

Real sockets on 127.0.0.1 and real pseudo-terminals. The meters here speak a
tiny length-prefixed protocol of this file's own (start byte A5H, length,
payload, byte-sum checksum): framing is all a transport knows of a protocol,
and this one lets a request ask for silence, garbage or an echo.
"""

import threading
import time

import pytest

from prepaid_energy_core.errors import (
    ProtocolError,
    TransportError,
    TransportTimeout,
    ValidationError,
)
from prepaid_energy_core.simulator.server import Gateway, SimulatorServer
from prepaid_energy_core.transports.serial import SerialTransport
from prepaid_energy_core.transports.tcp import TcpTransport

START = 0xA5
HANG_GUARD = 5.0  # seconds: generous bound proving a call returned, not a speed figure


def frame(payload):
    """A5H, length, payload, sum of the payload mod 256."""
    return bytes([START, len(payload)]) + payload + bytes([sum(payload) % 256])


def frame_length(buffer):
    if buffer[0] != START:
        raise ProtocolError(f"frame must start with A5H, got {buffer[0]:02X}H")
    if len(buffer) < 2:
        return None
    return buffer[1] + 3


class EchoResponder:
    """Answers ``frame(b"re:" + payload)``; payload ``silent`` gets no reply,
    ``garbage`` gets bytes that can never be a frame, ``chatter...`` gets
    another frame before its reply."""

    def __init__(self):
        self.requests = []

    def frame_length(self, buffer):
        return frame_length(buffer)

    def handle(self, request):
        payload = request[2:-1]
        self.requests.append(payload)
        if payload == b"silent":
            return None
        if payload == b"garbage":
            return b"\x00\x13\x37garbage"
        if payload.startswith(b"chatter"):  # another frame on the line first, in one write
            return frame(b"xx:noise") + frame(b"re:" + payload)
        return frame(b"re:" + payload)


@pytest.fixture
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


def serve(server, kind="tcp", **options):
    gateway = Gateway(EchoResponder(), {}, **options)
    return server.add_gateway(gateway, kind)


def tcp_transport(gateway, timeout=0.5):
    return TcpTransport(gateway.host, gateway.port, timeout=timeout)


@pytest.fixture(params=["tcp", "pty"])
def link(request, server):
    """(gateway, transport) over TCP or over a pseudo-terminal."""
    gateway = serve(server, request.param)
    if request.param == "tcp":
        transport = tcp_transport(gateway)
    else:
        transport = SerialTransport(gateway.pty_path, timeout=0.5)
    with transport:
        yield gateway, transport


def test_exchange_returns_the_reply_frame(link):
    _gateway, transport = link
    reply = transport.exchange(frame(b"hello"), frame_length)
    assert reply == frame(b"re:hello")
    assert transport.exchange(frame(b"again"), frame_length) == frame(b"re:again")


def test_no_reply_raises_timeout_within_the_deadline(link):
    _gateway, transport = link
    began = time.monotonic()
    with pytest.raises(TransportTimeout):
        transport.exchange(frame(b"silent"), frame_length, timeout=0.1)
    assert time.monotonic() - began < 0.1 + HANG_GUARD
    # the link is still usable afterwards
    assert transport.exchange(frame(b"next"), frame_length) == frame(b"re:next")


def test_expect_reply_false_returns_at_once(link):
    gateway, transport = link
    assert transport.exchange(frame(b"broadcast"), frame_length, expect_reply=False) == b""
    time.sleep(0.2)  # let the unwanted reply arrive: it is stale for the next exchange
    assert transport.exchange(frame(b"mine"), frame_length) == frame(b"re:mine")
    assert gateway.responder.requests == [b"broadcast", b"mine"]


def test_late_reply_is_discarded_as_stale(server):
    # 1200 baud (11/1200 s a byte), 0.2 s turnaround: request 8 bytes (73 ms) + t3.5
    # (32 ms) + 0.2 s + reply 11 bytes (101 ms): ~0.41 s, far past a 0.1 s deadline
    gateway = serve(server, "tcp", baudrate=1200, turnaround=0.2)
    with tcp_transport(gateway) as transport:
        with pytest.raises(TransportTimeout):
            transport.exchange(frame(b"first"), frame_length, timeout=0.1)
        time.sleep(1.0)  # the late reply to "first" is now waiting in the socket
        reply = transport.exchange(frame(b"second"), frame_length, timeout=2.0)
    assert reply == frame(b"re:second")


def test_late_reply_is_discarded_on_a_pty(server):
    gateway = serve(server, "pty", baudrate=1200, turnaround=0.2)
    with SerialTransport(gateway.pty_path, baudrate=1200) as transport:
        with pytest.raises(TransportTimeout):
            transport.exchange(frame(b"first"), frame_length, timeout=0.1)
        time.sleep(1.0)
        reply = transport.exchange(frame(b"second"), frame_length, timeout=2.0)
    assert reply == frame(b"re:second")


def test_garbage_reply_raises_protocol_error_and_the_next_exchange_works(link):
    _gateway, transport = link
    with pytest.raises(ProtocolError):
        transport.exchange(frame(b"garbage"), frame_length)
    assert transport.exchange(frame(b"ok"), frame_length) == frame(b"re:ok")


def answers(payload):
    """The check of a request ``payload``: only ``re:payload`` is its reply."""
    return lambda reply: None if reply == frame(b"re:" + payload) else f"not for {payload!r}"


def test_a_frame_that_does_not_answer_the_request_is_set_aside(link):
    _gateway, transport = link
    reply = transport.exchange(frame(b"chatter"), frame_length, check=answers(b"chatter"))
    assert reply == frame(b"re:chatter")
    assert [stray.frame for stray in transport.take_strays()] == [frame(b"xx:noise")]
    assert transport.take_strays() == []  # taken once


def test_only_frames_for_others_until_the_deadline_is_a_timeout_that_says_so(link):
    _gateway, transport = link
    with pytest.raises(TransportTimeout, match=r"2 frame\(s\) set aside.*not for b'mine'"):
        transport.exchange(frame(b"chatter"), frame_length, timeout=0.2, check=answers(b"mine"))
    strays = [stray.frame for stray in transport.take_strays()]
    assert strays == [frame(b"xx:noise"), frame(b"re:chatter")]


@pytest.mark.parametrize("kind", ["tcp", "pty"])
def test_a_late_reply_is_set_aside_never_taken_for_the_next(server, kind):
    # every reply comes 0.3 s late: the one to "first" arrives after its 0.1 s
    # deadline, while "second" waits for its own reply
    gateway = serve(server, kind, faults=["late=every:1:0.3"])
    if kind == "tcp":
        transport = tcp_transport(gateway)
    else:
        transport = SerialTransport(gateway.pty_path)
    with transport:
        with pytest.raises(TransportTimeout):
            transport.exchange(frame(b"first"), frame_length, timeout=0.1, check=answers(b"first"))
        reply = transport.exchange(
            frame(b"second"), frame_length, timeout=2.0, check=answers(b"second")
        )
        strays = transport.take_strays()
    assert reply == frame(b"re:second")
    assert [stray.frame for stray in strays] == [frame(b"re:first")]
    assert strays[0].received_at > transport.last_sent_at - 2.0


def test_a_reply_under_way_at_the_deadline_is_completed(server):
    # a tiny gateway of its own: half a reply before the deadline, the rest after
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    reply = frame(b"re:slow")

    def gateway():
        connection, _ = listener.accept()
        with connection:
            connection.recv(64)
            connection.sendall(reply[:3])
            time.sleep(0.15)  # the deadline (0.1 s) passes in the middle of the frame
            connection.sendall(reply[3:])
            connection.recv(64)  # hold the line open until the client is done

    helper = threading.Thread(target=gateway, daemon=True)
    helper.start()
    try:
        with TcpTransport("127.0.0.1", port) as transport:
            transport.quiet = 0.5  # the line is not quiet: bytes are still coming
            got = transport.exchange(frame(b"slow"), frame_length, timeout=0.1)
    finally:
        listener.close()
        helper.join(HANG_GUARD)
    assert got == reply


def test_reconnects_after_the_gateway_drops_the_connection(server):
    gateway = serve(server)
    with tcp_transport(gateway) as transport:
        assert transport.exchange(frame(b"one"), frame_length) == frame(b"re:one")
        server.restart(gateway, 0.0)  # drop every connection, listen again at once
        time.sleep(0.1)
        assert transport.exchange(frame(b"two"), frame_length) == frame(b"re:two")
    assert gateway.stats.restarts == 1


def test_refused_while_the_gateway_restarts_then_reconnects(server):
    gateway = serve(server)
    with tcp_transport(gateway) as transport:
        assert transport.exchange(frame(b"one"), frame_length) == frame(b"re:one")
        server.restart(gateway, 1.0)
        with pytest.raises(TransportError) as failure:
            transport.exchange(frame(b"two"), frame_length)
        assert not isinstance(failure.value, TransportTimeout)
        time.sleep(1.2)
        assert transport.exchange(frame(b"three"), frame_length) == frame(b"re:three")


def test_connection_refused_is_a_transport_error(server):
    gateway = serve(server)
    port = gateway.port
    server.call(gateway._close)  # nobody listens on the port any more
    with pytest.raises(TransportError, match="cannot connect"):
        TcpTransport("127.0.0.1", port, timeout=0.2).exchange(frame(b"x"), frame_length)


def test_lock_serialises_concurrent_callers(link):
    gateway, transport = link
    replies = {}

    def ask(number):
        payload = b"caller%02d" % number
        replies[payload] = transport.exchange(frame(payload), frame_length, timeout=2.0)

    callers = [threading.Thread(target=ask, args=(n,)) for n in range(12)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(HANG_GUARD)
    # every caller got the answer to its own request, none got another's
    assert len(replies) == 12
    assert all(reply == frame(b"re:" + payload) for payload, reply in replies.items())
    assert len(gateway.responder.requests) == 12


def test_concurrent_callers_on_a_timed_bus_each_get_their_reply(server):
    # 19200 baud, no turnaround: replies take a few ms, callers must queue on the lock
    gateway = serve(server, "tcp", baudrate=19200, turnaround=0.0)
    replies = []
    with tcp_transport(gateway, timeout=2.0) as transport:

        def ask(number):
            payload = b"n%d" % number
            replies.append((payload, transport.exchange(frame(payload), frame_length)))

        callers = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(HANG_GUARD)
    assert sorted(p for p, _ in replies) == [b"n%d" % n for n in range(6)]
    assert all(reply == frame(b"re:" + payload) for payload, reply in replies)


def test_serial_transport_on_a_missing_port_is_a_transport_error():
    transport = SerialTransport("/dev/this-port-does-not-exist", timeout=0.1)
    with pytest.raises(TransportError, match="cannot open"):
        transport.exchange(frame(b"x"), frame_length)


def test_serial_transport_rejects_an_unknown_parity():
    with pytest.raises(ValidationError, match="parity"):
        SerialTransport("/dev/null", parity="X")


def test_serial_transport_reopens_after_the_terminal_went_away(server):
    gateway = serve(server, "pty")
    transport = SerialTransport(gateway.pty_path, timeout=0.3)
    assert transport.exchange(frame(b"one"), frame_length) == frame(b"re:one")
    server.call(gateway._close)  # the pseudo-terminal disappears
    with pytest.raises(TransportError):
        transport.exchange(frame(b"two"), frame_length)
    # the transport closed its port: the next call tries to open it again
    assert transport._serial is None
    transport.close()


def test_a_port_whose_setup_the_kernel_refuses_is_a_transport_error():
    # A pty takes 2400 8E1 once; setting the same even parity again without a
    # baud-rate change fails with termios.error EINVAL (not an OSError). That
    # must come out as a TransportError, never a traceback.
    import os

    import pytest
    import serial

    from prepaid_energy_core.errors import TransportError
    from prepaid_energy_core.transports.serial import SerialTransport

    controller, device = os.openpty()
    path = os.ttyname(device)
    try:
        serial.Serial(path, baudrate=2400, parity="E", timeout=0).close()
        transport = SerialTransport(path, baudrate=2400, parity="E", timeout=0.05)
        with pytest.raises(TransportError, match="cannot open"):
            transport._open()
    finally:
        os.close(controller)
        os.close(device)
