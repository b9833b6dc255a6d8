"""Exceptions shared by every part of the core.

Each carries a message a person can act on: which input, what is wrong, what
was expected.
"""


class PrepaidEnergyError(Exception):
    """Base class of every error raised by prepaid_energy_core."""


class ValidationError(PrepaidEnergyError, ValueError):
    """Input data (a tariff, readings, a policy setting, a file) is not acceptable."""


class ProtocolError(PrepaidEnergyError):
    """Bytes on the wire do not form a valid frame of the expected protocol."""


class ChecksumError(ProtocolError):
    """A frame arrived whole but its checksum (CS, CRC) does not match."""


class MeterRefused(PrepaidEnergyError):
    """The meter answered with an abnormal (exception) reply.

    ``code`` holds the protocol's own error code or bits, ``reason`` the
    readable meaning.
    """

    def __init__(self, reason, code=None):
        super().__init__(reason if code is None else f"{reason} (code {code!r})")
        self.reason = reason
        self.code = code


class TransportError(PrepaidEnergyError):
    """The link to a gateway or serial port failed (refused, closed, reset)."""


class TransportTimeout(TransportError, TimeoutError):
    """No complete reply arrived before the deadline."""
