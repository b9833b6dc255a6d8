"""The simulator's ``--state FILE``: meters start from given registers and relay.

The simulator runs as a real subprocess serving real TCP ports; the
registers are read back with the project's drivers, as Odoo's poller reads
them. Loads are 0 kW (or the relay open) so nothing moves while we read.
"""

import json
import signal
import subprocess
import sys
from decimal import Decimal

import pytest

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.simulator.state import parse_state
from prepaid_energy_core.transports.tcp import TcpTransport

D = Decimal
BANDS = {"sharp": "10.25", "peak": "40.5", "flat": "50", "valley": "23.7"}


def run_simulator(*arguments):
    return subprocess.Popen(
        [sys.executable, "-m", "prepaid_energy_core.simulator", "--json", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def simulator(tmp_path):
    """``simulator(meters, *options)`` -> the gateways it describes; stopped after."""
    started = []

    def start(meters, *options):
        path = tmp_path / "state.json"
        path.write_text(json.dumps(meters), encoding="utf-8")
        process = run_simulator("--state", str(path), *options)
        started.append(process)
        line = process.stdout.readline()
        assert line, process.stderr.read()
        assert process.stdout.readline().strip() == "ready"
        return json.loads(line)["gateways"]

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_modbus_meters_start_from_the_file_registers(simulator):
    gateways = simulator(
        [
            {
                "gateway": 0,
                "address": "3",
                "total": "124.45",
                "bands": BANDS,
                "load_kw": "0",
                "relay_closed": True,
            },
            {"gateway": 0, "address": 7, "total": 5.5, "load_kw": "2", "relay_closed": False},
            {"gateway": 1, "address": "1", "total": "99999.99", "load_kw": 0},
        ]
    )
    assert [g["addresses"] for g in gateways] == [["3", "7"], ["1"]]
    first, second = gateways
    with TcpTransport(first["host"], first["port"], timeout=2) as transport:
        driver = ModbusDriver(transport, "generic")
        reading = driver.read("3")
        assert reading.total == D("124.45")
        assert reading.bands == {band: D(value) for band, value in BANDS.items()}
        assert reading.relay_closed is True
        # relay open: the 2 kW load draws nothing, the register stays
        reading = driver.read("7")
        assert reading.total == D("5.5")
        assert reading.relay_closed is False
    with TcpTransport(second["host"], second["port"], timeout=2) as transport:
        assert ModbusDriver(transport, "generic").read("1").total == D("99999.99")


def test_gateways_listen_on_port_base_plus_index_and_gaps_serve_no_meter(simulator):
    gateways = simulator(
        [{"gateway": 2, "address": "1", "total": "1", "load_kw": "0"}],
        "--port-base",
        "18471",
    )
    assert [g["port"] for g in gateways] == [18471, 18472, 18473]
    assert [g["addresses"] for g in gateways] == [[], [], ["1"]]
    with TcpTransport("127.0.0.1", 18473, timeout=2) as transport:
        assert ModbusDriver(transport, "generic").read("1").total == D("1")


def test_dlt645_meters_keep_balance_and_purchase_count(simulator):
    address = "000001000042"
    (gateway,) = simulator(
        [
            {
                "gateway": 0,
                "address": address,
                "protocol": "dlt645",
                "total": "321.09",
                "bands": BANDS,
                "balance": "12.30",
                "purchase_count": 5,
                "relay_closed": False,
            }
        ]
    )
    assert gateway["protocol"] == "dlt645"
    with TcpTransport(gateway["host"], gateway["port"], timeout=2) as transport:
        reading = Dlt645Driver(transport).read(address)
    assert reading.total == D("321.09")
    assert reading.bands["valley"] == D("23.70")
    assert reading.balance == D("12.30")
    assert reading.purchase_count == 5
    assert reading.relay_closed is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON (Expecting property name"),
        ('{"gateway": 0}', "expected a JSON list of meters, got an object"),
        ("[]", "the list of meters is empty"),
        ('[{"address": "1"}]', "meter 1: 'gateway' must be an index"),
        ('[{"gateway": 0}]', "meter 1: 'address' is required"),
        ('[{"gateway": 0, "address": "300"}]', "a Modbus unit id is 1..247, got '300'"),
        ('[{"gateway": 0, "address": "1", "total": "lots"}]', "total must be a number"),
        ('[{"gateway": 0, "address": "1", "total": -3}]', "total must be a number of 0 or more"),
        ('[{"gateway": 0, "address": "1", "bands": {"noon": 1}}]', "unknown bands noon"),
        ('[{"gateway": 0, "address": "1", "relay": true}]', "unknown keys relay"),
        ('[{"gateway": 0, "address": "1", "utility": "gas"}]', "'utility' is electricity or water"),
        ('[{"gateway": 0, "address": "1"}, {"gateway": 0, "address": "01"}]', "twice"),
        (
            '[{"gateway": 0, "address": "1"}, '
            '{"gateway": 0, "address": "000000000001", "protocol": "dlt645"}]',
            "meter 2: gateway 0 already serves modbus-rtu",
        ),
    ],
)
def test_a_bad_state_file_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    process = run_simulator("--state", str(path))
    out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert out == ""
    assert err.startswith(f"prepaid-simulator: {path}: ")
    assert message in err


def test_state_with_gateways_or_a_missing_file_is_refused(tmp_path):
    process = run_simulator("--state", str(tmp_path / "none.json"))
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "No such file" in err
    path = tmp_path / "state.json"
    path.write_text('[{"gateway": 0, "address": "1"}]', encoding="utf-8")
    process = run_simulator("--state", str(path), "--meters", "4")
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "drop --gateways and --meters" in err


def test_defaults_fill_what_the_file_leaves_out():
    (gateway,) = parse_state([{"gateway": 0, "address": " 12 "}], default_load_kw=D("0.7"))
    meter = gateway.meters["12"]
    assert (meter.total, meter.load_kw, meter.relay_closed) == (D(0), D("0.7"), True)
    assert set(meter.bands.values()) == {D(0)}
    assert gateway.protocol == "modbus-rtu"
    (gateway,) = parse_state(
        [{"gateway": 0, "address": "3", "utility": "water", "serial": "W-3"}],
        default_load_kw=D("1.5"),
    )
    assert gateway.meters["3"].load_kw == D("0.02")
    with pytest.raises(ValidationError, match="register map does not apply"):
        parse_state(
            [{"gateway": 0, "address": "1" * 12, "protocol": "dlt645", "register_map": "generic"}]
        )
