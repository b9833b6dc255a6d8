"""Modbus TCP (MBAP) to a meter or gateway, through pymodbus's synchronous client.

pymodbus's default is a 3 s timeout with 3 retries, i.e. up to 12 s lost on
every dead meter of a poll cycle. This transport makes one attempt with a
short timeout (0.5 s by default): retrying is the poller's decision.

A late reply cannot be taken for the next request's answer: pymodbus gives
every request a new MBAP transaction id and skips a frame whose transaction
id or unit id is not the request's (``FramerBase.handleFrame``), reading on
until its timeout; the reply's unit and function are checked again here.
Frames pymodbus skips are not handed back, so a late Modbus TCP reply does
not count as proof of life for the poller (no retry: one timeout per cycle).
"""

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from ..errors import ProtocolError, TransportError, TransportTimeout
from ..protocols import modbus
from .base import Transport


class ModbusTcpTransport(Transport):
    """One Modbus TCP server (a meter or a Modbus TCP to RTU gateway).

    Drivers call :meth:`execute`; byte-level :meth:`exchange` is not offered
    because MBAP framing belongs to pymodbus here.
    """

    def __init__(self, host, port, timeout=0.5, name=None, connect_timeout=1.0):
        super().__init__(name or f"modbus-tcp://{host}:{port}")
        self.host = host
        self.port = int(port)
        self.default_timeout = timeout
        self.connect_timeout = connect_timeout
        self.client = ModbusTcpClient(
            host, port=self.port, timeout=timeout, retries=0, name=self.name
        )

    def execute(self, unit, function, address, arg, timeout=None):
        """One Modbus request; same contract as drivers.modbus.RtuChannel.execute."""
        modbus.build_request(function, address, arg)  # ValidationError on bad arguments
        with self.lock:
            self._connect()
            self.client.comm_params.timeout_connect = timeout or self.default_timeout
            try:
                response = self._call(unit, function, address, arg)
            except ConnectionException as exc:
                self.close()
                raise TransportError(f"{self.name}: {exc}") from None
            except ModbusIOException as exc:
                raise self._io_error(exc) from None
            except ModbusException as exc:
                raise ProtocolError(f"{self.name}: {exc}") from None
        return self._result(response, unit, function, address, arg)

    def _connect(self):
        if self.client.connected:
            return
        self.client.comm_params.timeout_connect = self.connect_timeout
        if not self.client.connect():
            raise TransportError(f"{self.name}: cannot connect to {self.host}:{self.port}")

    def _call(self, unit, function, address, arg):
        client = self.client
        if function == modbus.READ_COILS:
            return client.read_coils(address, count=arg, device_id=unit)
        if function == modbus.READ_DISCRETE_INPUTS:
            return client.read_discrete_inputs(address, count=arg, device_id=unit)
        if function == modbus.READ_HOLDING_REGISTERS:
            return client.read_holding_registers(address, count=arg, device_id=unit)
        if function == modbus.READ_INPUT_REGISTERS:
            return client.read_input_registers(address, count=arg, device_id=unit)
        if function == modbus.WRITE_SINGLE_COIL:
            return client.write_coil(address, arg, device_id=unit)
        if function == modbus.WRITE_SINGLE_REGISTER:
            return client.write_register(address, arg, device_id=unit)
        return client.write_registers(address, list(arg), device_id=unit)

    def _io_error(self, exc):
        # pymodbus raises ModbusIOException both for silence and for a reply
        # from the wrong device; only silence is a timeout.
        if "No response" in str(exc):
            return TransportTimeout(f"{self.name}: no reply before the deadline")
        return ProtocolError(f"{self.name}: {exc}")

    def _result(self, response, unit, function, address, arg):
        if response.dev_id != unit:
            raise ProtocolError(f"reply from unit {response.dev_id} to a request to unit {unit}")
        if response.isError():
            if response.function_code != function | 0x80:
                raise ProtocolError(
                    f"exception reply 0x{response.function_code:02X} to 0x{function:02X}"
                )
            refusal = modbus.exception_error(
                bytes([response.function_code, response.exception_code])
            )
            raise modbus.refusal_in_context(refusal, unit, function, address)
        if response.function_code != function:
            raise ProtocolError(
                f"reply function 0x{response.function_code:02X} to 0x{function:02X}"
            )
        if function in modbus.BIT_READS:
            return [bool(bit) for bit in response.bits[:arg]]
        if function in modbus.REGISTER_READS:
            if len(response.registers) != arg:
                raise ProtocolError(f"{len(response.registers)} registers in reply, {arg} asked")
            return list(response.registers)
        self._check_echo(response, function, address, arg)
        return None

    @staticmethod
    def _check_echo(response, function, address, arg):
        echoed = {
            modbus.WRITE_SINGLE_COIL: lambda: bool(response.bits and response.bits[0]) == arg,
            modbus.WRITE_SINGLE_REGISTER: lambda: list(response.registers) == [arg],
            modbus.WRITE_MULTIPLE_REGISTERS: lambda: response.count == len(arg),
        }[function]()
        if response.address != address or not echoed:
            raise ProtocolError(f"write reply does not echo the request to 0x{address:04X}")

    def _exchange(self, request, frame_length, timeout, expect_reply, check):
        raise TransportError(
            f"{self.name}: Modbus TCP carries requests through execute(), not raw bytes"
        )

    def close(self):
        self.client.close()

    def __repr__(self):
        return f"ModbusTcpTransport({self.host!r}, {self.port})"
