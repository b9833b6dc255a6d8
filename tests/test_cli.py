"""prepaid-meter: usage errors, output formatting, exit codes, and end to end
against the real simulator over TCP on 127.0.0.1 and over a pseudo-terminal."""

import datetime
import io
import json
import re
import socket
import subprocess
import sys
import threading
from decimal import Decimal

import pytest

from prepaid_energy_core import cli
from prepaid_energy_core.drivers.base import MeterReading
from prepaid_energy_core.errors import (
    ChecksumError,
    MeterRefused,
    ProtocolError,
    TransportError,
    TransportTimeout,
    ValidationError,
)
from prepaid_energy_core.register_maps import DATA_DIR, load_builtin
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway


def run(argv):
    """Run the tool in-process; return (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(argv, stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def shows(out, label, value, unit=""):
    """True if ``out`` has the table line ``label  value [unit]`` (any alignment)."""
    pattern = rf"^ *{re.escape(label)} +{re.escape(value)} *{re.escape(unit)}$"
    return re.search(pattern, out, re.MULTILINE) is not None


# -- usage errors (no meter needed) ---------------------------------------------------
def test_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.build_parser().parse_args(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for code, meaning in cli.EXIT_CODES.items():
        assert f"{code}  {meaning}" in text
    assert cli.main(["read", "--help"]) == 0
    assert "exit codes:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no subcommand
        ["fly", "--tcp", "127.0.0.1:1"],  # unknown subcommand
        ["read", "--tcp", "localhost"],  # no port
        ["read", "--tcp", "127.0.0.1:70000"],
        ["read", "--protocol", "iec62056", "--tcp", "127.0.0.1:1"],
        ["read", "--tcp", "127.0.0.1:1", "--address", "1", "--timeout", "0"],
        ["read", "--serial", "/dev/null", "--address", "1", "--parity", "X"],
        ["relay", "open", "--tcp", "127.0.0.1:1", "--address", "1"],
        ["credit", "-5", "--tcp", "127.0.0.1:1", "--address", "1"],
        ["credit", "1.234", "--tcp", "127.0.0.1:1", "--address", "1"],
        ["credit", "lots", "--tcp", "127.0.0.1:1", "--address", "1"],
        ["credit", "10", "--count", "0", "--tcp", "127.0.0.1:1", "--address", "1"],
        ["time", "--at", "tomorrow", "--tcp", "127.0.0.1:1", "--address", "1"],
    ],
)
def test_argparse_usage_errors_exit_2(argv):
    assert run(argv)[0] == cli.EXIT_USAGE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["read", "--address", "1"], "exactly one link"),
        (["read", "--tcp", "127.0.0.1:1", "--serial", "/dev/null", "--address", "1"], "one link"),
        (["read", "--protocol", "dlt645", "--modbus-tcp", "127.0.0.1:1"], "Modbus only"),
        (["read", "--tcp", "127.0.0.1:1", "--baud", "2400", "--address", "1"], "--serial only"),
        (["read", "--tcp", "127.0.0.1:1"], "needs --address"),
        (["credit", "5", "--tcp", "127.0.0.1:1"], "needs --address"),
        (["read", "--tcp", "127.0.0.1:1", "--address", "0"], "unit id 1-247"),
        (["read", "--tcp", "127.0.0.1:1", "--address", "248"], "unit id 1-247"),
        (["read", "--protocol", "dlt645", "--tcp", "127.0.0.1:1", "--address", "1" * 13], "12"),
        (["read", "--protocol", "dlt645", "--tcp", "127.0.0.1:1", "--address", "12ab"], "12"),
        (["scan", "--tcp", "127.0.0.1:1", "--from", "9", "--to", "3"], "from <= to"),
        (["scan", "--tcp", "127.0.0.1:1", "--to", "300"], "from <= to"),
        (["scan", "--tcp", "127.0.0.1:1", "--addresses", "1,2"], "for DL/T 645"),
        (
            ["scan", "--protocol", "dlt645", "--tcp", "127.0.0.1:1", "--addresses", "1-5000"],
            "1 to 1000",
        ),
        (["read", "--tcp", "127.0.0.1:1", "--address", "1", "--profile", "acme"], "profile"),
        (
            ["read", "--protocol", "dlt645", "--tcp", "127.0.0.1:1", "--address", "1"]
            + ["--profile", "eastron_sdm630"],
            "DL/T 645 has none",
        ),
    ],
)
def test_option_checks_exit_2_with_a_clear_message(argv, message):
    code, out, err = run(argv)
    assert code == cli.EXIT_USAGE
    assert message in err
    assert out == ""


def test_usage_error_in_json_mode_is_a_json_document():
    code, out, _ = run(["read", "--tcp", "127.0.0.1:1", "--address", "999", "--json"])
    document = json.loads(out)
    assert code == document["exit_code"] == cli.EXIT_USAGE
    assert document["ok"] is False
    assert "999" in document["error"]


def test_addresses_are_normalised_per_protocol():
    assert cli.check_address("modbus", " 007 ") == "7"
    assert cli.check_address("dlt645", "123456") == "000000123456"
    assert cli.dlt645_addresses("000000000009-000000000011") == [
        "000000000009",
        "000000000010",
        "000000000011",
    ]
    assert cli.dlt645_addresses("1, 22") == ["000000000001", "000000000022"]
    with pytest.raises(ValidationError):
        cli.dlt645_addresses("5-3")


# -- formatting ----------------------------------------------------------------------------
READING = MeterReading(
    address="000000123456",
    timestamp=datetime.datetime(2025, 3, 1, 12, 30, 5),
    total=Decimal("1234.56"),
    bands={"sharp": Decimal("100.00"), "valley": Decimal("34.5")},
    voltage=Decimal("230.1"),
    current=Decimal("6.52"),
    power=Decimal("1.500"),
    relay_closed=False,
    balance=Decimal("-3.20"),
    purchase_count=7,
)


def test_reading_table_shows_every_value_with_its_unit():
    out = cli.format_reading(READING)
    assert shows(out, "Address", "000000123456")
    assert shows(out, "Total energy", "1234.56", "kWh")
    assert shows(out, "Sharp", "100.00", "kWh")
    assert shows(out, "Valley", "34.5", "kWh")
    assert "Peak" not in out  # the meter has no peak register
    assert shows(out, "Voltage", "230.1", "V")
    assert shows(out, "Current", "6.52", "A")
    assert shows(out, "Power", "1.500", "kW")
    assert shows(out, "Relay", "open")
    assert shows(out, "Balance", "-3.20")
    assert shows(out, "Purchase count", "7")
    assert "2025-03-01 12:30:05" in out


def test_numbers_line_up_on_the_decimal_point_and_units_line_up():
    rows = [
        ("Energy", Decimal("1234.5"), "kWh"),
        ("Power", Decimal("1.500"), "kW"),
        ("Count", 7, ""),
        ("Balance", Decimal("-3.20"), ""),
        ("State", "closed", ""),
    ]
    lines = cli.format_table(rows).splitlines()
    assert lines == [
        "Energy   1234.5   kWh",
        "Power       1.500 kW",
        "Count       7",
        "Balance    -3.20",
        "State    closed",
    ]


def test_values_the_meter_does_not_offer_are_left_out():
    bare = MeterReading(address="5", timestamp=datetime.datetime(2025, 1, 1), voltage=Decimal("1"))
    labels = [line.split()[0] for line in cli.format_reading(bare).splitlines()]
    assert labels == ["Address", "Time", "Voltage"]


def test_read_json_keeps_decimals_exact_with_units():
    values = cli.reading_values(READING)
    document = cli.values_document(READING.address, READING.timestamp, values)
    assert document["address"] == "000000123456"
    assert document["values"]["total"] == "1234.56"
    assert document["values"]["sharp"] == "100.00"
    assert document["values"]["balance"] == "-3.20"
    assert document["values"]["relay_state"] is False
    assert document["values"]["purchase_count"] == 7
    assert document["units"]["valley"] == "kWh"
    assert "peak" not in document["values"]
    assert document["timestamp"].startswith("2025-03-01T12:30:05")
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MeterRefused("password wrong", code=0x04), 1),
        (ValidationError("bad"), 2),
        (TransportTimeout("silence"), 3),
        (ChecksumError("CS"), 4),
        (ProtocolError("junk"), 4),
        (TransportError("refused"), 5),
    ],
)
def test_errors_map_to_documented_exit_codes(error, code):
    assert cli.exit_code_for(error) == code
    assert code in cli.EXIT_CODES


# -- end to end against the simulator ------------------------------------------------------
# Real TCP sockets on 127.0.0.1 and a real pseudo-terminal; meters draw no load
# (load_kw=0) so every register keeps the value the test gave it.
DLT_METERS = ["000000000001", "000000000002", "000000000003"]
# A live simulated meter answers in milliseconds; the generous timeout only
# keeps a loaded CI machine from failing. Where silence is expected, the
# test passes SILENT (a later --timeout wins) to keep the suite fast; a scan
# or a lost acknowledgement uses SCAN, short but ample for meters that answer.
LIVE, SCAN, SILENT = "3", "0.8", "0.2"


@pytest.fixture(scope="module")
def simulator():
    with SimulatorServer(tick_interval=None) as server:
        yield server


@pytest.fixture
def dlt_bus(simulator):
    """Three DL/T 645 meters behind a fresh transparent TCP gateway."""
    return _dlt_gateway(simulator, "tcp")


def _dlt_gateway(simulator, transport, count=3, faults=None):
    gateway = make_gateway(
        "dlt645",
        count,
        load_kw=Decimal("0"),
        total=Decimal("1234.56"),
        balance=Decimal("20.00"),
        purchase_count=3,
        faults=faults,
    )
    for meter in gateway.meters.values():
        meter.bands.update(sharp=Decimal("100.00"), peak=Decimal("200.00"))
    return simulator.add_gateway(gateway, transport)


def dlt(gateway, *argv):
    link = ["--serial", gateway.pty_path] if gateway.kind == "pty" else ["--tcp", gateway.endpoint]
    return ["--protocol", "dlt645", *link, "--timeout", LIVE, *argv]


def test_dlt645_read_prints_every_value_with_units(dlt_bus):
    code, out, err = run(["read", *dlt(dlt_bus, "--address", "000000000002")])
    assert (code, err) == (0, "")
    assert shows(out, "Total energy", "1234.56", "kWh")
    assert shows(out, "Sharp", "100.00", "kWh")
    assert shows(out, "Peak", "200.00", "kWh")
    assert shows(out, "Voltage", "230.0", "V")
    assert shows(out, "Relay", "closed")
    assert shows(out, "Balance", "20.00")
    assert shows(out, "Purchase count", "3")


def test_dlt645_read_json_matches_the_meter_exactly(dlt_bus):
    meter = dlt_bus.meters["000000000001"]
    meter.balance = Decimal("-7.25")  # overdraft: the driver combines both registers
    code, out, _ = run(["read", *dlt(dlt_bus, "--address", "1", "--json")])
    document = json.loads(out)
    reading = document["values"]
    assert code == 0
    assert document["address"] == "000000000001"
    assert reading["total"] == "1234.56"
    assert reading["balance"] == "-7.25"
    assert reading["purchase_count"] == 3
    assert reading["relay_state"] is True


def test_dlt645_relay_trip_and_close_act_on_the_meter(dlt_bus):
    meter = dlt_bus.meters["000000000003"]
    code, out, _ = run(["relay", "trip", *dlt(dlt_bus, "--address", "000000000003")])
    assert code == 0
    assert meter.relay_closed is False
    assert shows(out, "Relay now", "open")
    code, out, _ = run(["relay", "close", *dlt(dlt_bus, "--address", "000000000003", "--json")])
    assert code == 0
    assert meter.relay_closed is True
    assert json.loads(out)["relay_closed"] is True


def test_dlt645_refusals_exit_1_and_change_nothing(dlt_bus):
    meter = dlt_bus.meters["000000000001"]
    wrong = dlt(dlt_bus, "--address", "1", "--password", "02999999")
    code, _, err = run(["relay", "trip", *wrong])
    assert code == cli.EXIT_REFUSED
    assert "refused" in err
    assert meter.relay_closed is True
    # keep-power on: the meter itself refuses a trip
    assert run(["relay", "keep-on", *dlt(dlt_bus, "--address", "1")])[0] == 0
    assert run(["relay", "trip", *dlt(dlt_bus, "--address", "1")])[0] == cli.EXIT_REFUSED
    assert meter.relay_closed is True


def test_dlt645_bad_password_format_is_a_usage_error(dlt_bus):
    argv = ["relay", "trip", *dlt(dlt_bus, "--address", "1", "--password", "secret")]
    assert run(argv)[0] == cli.EXIT_USAGE


def test_dlt645_credit_reads_the_count_first_and_verifies_it(dlt_bus):
    meter = dlt_bus.meters["000000000002"]
    code, out, _ = run(["credit", "50.00", *dlt(dlt_bus, "--address", "2", "--json")])
    result = json.loads(out)
    assert code == 0
    # 20.00 + 50.00 = 70.00, purchase 3 -> 4
    assert meter.balance == Decimal("70.00")
    assert (result["purchase_count_before"], result["purchase_count_after"]) == (3, 4)
    assert result["acknowledged"] is True

    # a repeated push of purchase 4 is refused before anything is sent
    code, _, err = run(["credit", "50.00", "--count", "4", *dlt(dlt_bus, "--address", "2")])
    assert code == cli.EXIT_REFUSED
    assert "already applied" in err
    # purchase 9 would skip 5..8
    assert run(["credit", "5", "--count", "9", *dlt(dlt_bus, "--address", "2")])[0] == 1
    assert (meter.balance, meter.purchase_count) == (Decimal("70.00"), 4)


def test_dlt645_credit_over_the_meter_limit_is_refused(dlt_bus):
    meter = dlt_bus.meters["000000000001"]
    meter.max_balance = Decimal("100.00")
    code, _, _ = run(["credit", "80.01", *dlt(dlt_bus, "--address", "1")])
    # 20.00 + 80.01 = 100.01 > 100.00
    assert code == cli.EXIT_REFUSED
    assert (meter.balance, meter.purchase_count) == (Decimal("20.00"), 3)


def test_dlt645_credit_with_a_lost_acknowledgement_is_confirmed_by_the_count(simulator):
    # requests: 1 read count, 2 push (applied, reply lost), 3 read count back
    gateway = _dlt_gateway(simulator, "tcp", faults=["timeout=every:2"])
    meter = gateway.meters["000000000001"]
    code, out, _ = run(["credit", "5.00", *dlt(gateway, "--address", "1", "--timeout", SCAN)])
    assert code == 0
    assert shows(out, "Acknowledged", "lost, count read back")
    # 20.00 + 5.00, applied once
    assert (meter.balance, meter.purchase_count) == (Decimal("25.00"), 4)


def test_dlt645_credit_with_a_corrupted_acknowledgement_reads_the_count_back(simulator):
    # requests: 1 read count, 2 push (applied, reply with a bad CS), 3 read count back
    gateway = _dlt_gateway(simulator, "tcp", faults=["crc=every:2"])
    meter = gateway.meters["000000000003"]
    code, out, _ = run(["credit", "7.50", *dlt(gateway, "--address", "3", "--json")])
    result = json.loads(out)
    assert code == 0
    assert result["acknowledged"] is False
    assert result["purchase_count_after"] == 4
    # 20.00 + 7.50, applied once
    assert meter.balance == Decimal("27.50")


def test_dlt645_time_sync_to_one_meter_reads_its_clock_back(dlt_bus):
    code, out, _ = run(
        ["time", "--at", "2030-01-02T03:04:05", *dlt(dlt_bus, "--address", "2", "--json")]
    )
    result = json.loads(out)
    assert code == 0
    assert result["meter_clock"].startswith("2030-01-02T03:04")
    assert dlt_bus.meters["000000000002"].meter_time().date() == datetime.date(2030, 1, 2)
    assert dlt_bus.meters["000000000001"].meter_time().year != 2030


def test_dlt645_clock_after_2068_reads_back_as_20yy(dlt_bus):
    # two year digits: 75 is 2075 (two-digit-year parsing would say 1975)
    code, out, _ = run(["time", "--at", "2075-06-07T08:09:10", *dlt(dlt_bus, "--address", "1")])
    assert code == 0
    assert re.search(r"^Meter clock now +2075-06-07 08:09", out, re.MULTILINE)
    assert dlt_bus.meters["000000000001"].meter_time().year == 2075


def test_time_with_an_offset_is_set_as_local_wall_time(dlt_bus):
    at = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    local = at.astimezone().replace(tzinfo=None)
    code, out, _ = run(["time", "--at", at.isoformat(), *dlt(dlt_bus, "--address", "3", "--json")])
    assert code == 0
    assert json.loads(out)["time"] == local.isoformat()
    meter_clock = dlt_bus.meters["000000000003"].meter_time()
    assert local <= meter_clock <= local + datetime.timedelta(seconds=30)


def test_dlt645_broadcast_time_sync_sets_every_meter(dlt_bus):
    code, out, _ = run(["time", "--at", "2031-05-06T07:08:09", *dlt(dlt_bus)])
    assert code == 0
    assert shows(out, "Address", "broadcast")
    # no meter acknowledges a broadcast: wait (bounded) until the gateway applied it
    meters = dlt_bus.meters.values()
    for _ in range(100):
        if all(meter.meter_time().year == 2031 for meter in meters):
            break
        threading.Event().wait(0.02)
    assert [meter.meter_time().date() for meter in meters] == [datetime.date(2031, 5, 6)] * 3


def test_dlt645_scan_by_address_range_finds_the_meters(dlt_bus):
    argv = [
        "scan",
        *dlt(dlt_bus, "--addresses", "000000000001-000000000005", "--json", "--timeout", SCAN),
    ]
    code, out, _ = run(argv)
    assert code == 0
    assert json.loads(out)["found"] == DLT_METERS


def test_dlt645_scan_by_read_address_on_a_single_meter_bus(simulator):
    gateway = _dlt_gateway(simulator, "tcp", count=1)
    code, out, _ = run(["scan", *dlt(gateway)])
    assert code == 0
    assert out.splitlines() == ["Meters found: 1", "  000000000001"]


def test_dlt645_read_address_on_a_shared_bus_exits_3_with_a_hint(dlt_bus):
    # three meters would answer 13H at once: the simulated bus gives no usable reply
    code, out, _ = run(["scan", *dlt(dlt_bus, "--timeout", SILENT)])
    assert code == cli.EXIT_TIMEOUT
    assert "single meter" in out and "--addresses" in out


def test_dlt645_scan_finding_nobody_exits_3(dlt_bus):
    code, out, _ = run(
        ["scan", *dlt(dlt_bus, "--addresses", "000000000007,000000000008", "--timeout", SILENT)]
    )
    assert code == cli.EXIT_TIMEOUT
    assert "no meter answered" in out


def test_dead_meter_times_out_with_exit_3(dlt_bus):
    dlt_bus.meters["000000000002"].dead = True
    code, out, err = run(["read", *dlt(dlt_bus, "--address", "2", "--json", "--timeout", SILENT)])
    assert code == cli.EXIT_TIMEOUT
    assert json.loads(out)["error_type"] == "TransportTimeout"
    assert "no answer" in err


def test_corrupted_checksum_exits_4(simulator):
    gateway = _dlt_gateway(simulator, "tcp", faults=["crc=every:1"])
    code, _, err = run(["read", *dlt(gateway, "--address", "1")])
    assert code == cli.EXIT_PROTOCOL
    assert "checksum" in err.lower()


def test_unreachable_gateway_exits_5():
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["read", "--protocol", "dlt645", "--tcp", f"127.0.0.1:{port}", "--address", "1"]
    code, _, err = run(argv)
    assert code == cli.EXIT_TRANSPORT
    assert "transport error" in err


def test_missing_serial_port_exits_5(tmp_path):
    argv = ["read", "--serial", str(tmp_path / "ttyUSB9"), "--protocol", "dlt645"]
    assert run([*argv, "--address", "1"])[0] == cli.EXIT_TRANSPORT


def test_dlt645_over_a_pseudo_terminal(simulator):
    gateway = _dlt_gateway(simulator, "pty")
    # Linux ptys have no parity: asking for 8E1 on a pty already at 2400 8N1
    # fails in tcsetattr (EINVAL), so the pty link runs 8N1.
    serial_line = ("--address", "3", "--baud", "2400", "--parity", "N")
    code, out, _ = run(["read", *dlt(gateway, *serial_line)])
    assert code == 0
    assert shows(out, "Total energy", "1234.56", "kWh")
    assert run(["relay", "trip", *dlt(gateway, *serial_line)])[0] == 0
    assert gateway.meters["000000000003"].relay_closed is False


def test_console_entry_point_runs_as_a_subprocess(dlt_bus):
    argv = ["read", *dlt(dlt_bus, "--address", "1", "--json")]
    done = subprocess.run(
        [sys.executable, "-m", "prepaid_energy_core.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["values"]["total"] == "1234.56"
    dlt_bus.meters["000000000001"].dead = True
    done = subprocess.run(
        [sys.executable, "-m", "prepaid_energy_core.cli", *argv, "--timeout", SILENT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == cli.EXIT_TIMEOUT


# -- Modbus end to end ----------------------------------------------------------------------
def _modbus_gateway(simulator, protocol="modbus-rtu", transport="tcp", profile=None, faults=None):
    gateway = make_gateway(
        protocol,
        3,
        load_kw=Decimal("0"),
        total=Decimal("4321.09"),
        balance=Decimal("15.50"),
        purchase_count=8,
        profile=profile,
        faults=faults,
    )
    for meter in gateway.meters.values():
        meter.bands.update(flat=Decimal("321.09"), valley=Decimal("4000.00"))
    return simulator.add_gateway(gateway, transport)


@pytest.fixture
def rtu_bus(simulator):
    """Three Modbus RTU meters (generic map) behind a transparent TCP gateway."""
    return _modbus_gateway(simulator)


def modbus(gateway, *argv):
    if gateway.kind == "pty":
        link = ["--serial", gateway.pty_path]
    elif gateway.protocol == "modbus-tcp":
        link = ["--modbus-tcp", gateway.endpoint]
    else:
        link = ["--tcp", gateway.endpoint]
    return [*link, "--timeout", LIVE, *argv]


def test_modbus_read_prints_every_point_of_the_map(rtu_bus):
    code, out, err = run(["read", *modbus(rtu_bus, "--address", "2")])
    assert (code, err) == (0, "")
    assert shows(out, "Address", "2")
    assert shows(out, "Total energy", "4321.09", "kWh")
    assert shows(out, "Flat", "321.09", "kWh")
    assert shows(out, "Valley", "4000.00", "kWh")
    assert shows(out, "Voltage", "230.0", "V")
    assert shows(out, "Balance", "15.50")
    assert shows(out, "Purchase count", "8")
    assert shows(out, "Relay", "closed")


def test_modbus_read_of_a_model_with_more_points_than_a_reading(simulator):
    profile = load_builtin("eastron_sdm630")
    gateway = _modbus_gateway(simulator, profile=profile)
    code, out, _ = run(["read", *modbus(gateway, "--address", "1", "--profile", "eastron_sdm630")])
    assert code == 0
    assert shows(out, "Frequency", "50", "Hz")
    assert shows(out, "Power factor", "1")
    assert shows(out, "Import energy", "4321.09", "kWh")
    # the SDM630 has no relay: switching it is a usage error, not a meter refusal
    relay = ["relay", "trip", *modbus(gateway, "--address", "1", "--profile", "eastron_sdm630")]
    code, _, err = run(relay)
    assert code == cli.EXIT_USAGE
    assert "not supported" in err


def test_modbus_profile_from_a_json_file(rtu_bus, tmp_path):
    copy = tmp_path / "my_meter.json"
    copy.write_text((DATA_DIR / "generic.json").read_text())
    code, out, _ = run(["read", *modbus(rtu_bus, "--address", "1", "--profile", str(copy))])
    assert code == 0
    assert shows(out, "Total energy", "4321.09", "kWh")
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "x", "points": [')
    code, _, err = run(["read", *modbus(rtu_bus, "--address", "1", "--profile", str(broken))])
    assert code == cli.EXIT_USAGE
    assert "broken.json" in err


def test_modbus_relay_and_refusal(rtu_bus):
    meter = rtu_bus.meters["3"]
    code, out, _ = run(["relay", "trip", *modbus(rtu_bus, "--address", "3")])
    assert code == 0 and meter.relay_closed is False
    assert shows(out, "Relay now", "open")
    assert run(["relay", "keep-on", *modbus(rtu_bus, "--address", "3")])[0] == 0
    assert meter.relay_closed is True  # keep power on closes the relay
    code, _, err = run(["relay", "trip", *modbus(rtu_bus, "--address", "3")])
    assert code == cli.EXIT_REFUSED
    assert "refused" in err
    assert meter.relay_closed is True


def test_modbus_credit_and_clock(rtu_bus):
    meter = rtu_bus.meters["1"]
    code, out, _ = run(["credit", "4.50", *modbus(rtu_bus, "--address", "1")])
    assert code == 0
    # 15.50 + 4.50 = 20.00; purchase 8 -> 9
    assert (meter.balance, meter.purchase_count) == (Decimal("20.00"), 9)
    assert shows(out, "Count before", "8") and shows(out, "Count after", "9")
    code, _, _ = run(["time", "--at", "2032-07-08T09:10:11", *modbus(rtu_bus, "--address", "1")])
    assert code == 0
    assert meter.meter_time().date() == datetime.date(2032, 7, 8)


def test_modbus_scan_finds_the_unit_ids_that_answer(rtu_bus):
    rtu_bus.meters["2"].dead = True
    code, out, _ = run(
        ["scan", *modbus(rtu_bus, "--from", "1", "--to", "5", "--json", "--timeout", SCAN)]
    )
    assert code == 0
    assert json.loads(out)["found"] == ["1", "3"]


def test_modbus_dead_meter_and_bad_crc(simulator, rtu_bus):
    rtu_bus.meters["1"].dead = True
    silent = ["read", *modbus(rtu_bus, "--address", "1", "--timeout", SILENT)]
    assert run(silent)[0] == cli.EXIT_TIMEOUT
    noisy = _modbus_gateway(simulator, faults=["crc=every:1"])
    code, _, err = run(["read", *modbus(noisy, "--address", "1")])
    assert code == cli.EXIT_PROTOCOL
    assert "crc" in err.lower()


def test_modbus_tcp_link(simulator):
    gateway = _modbus_gateway(simulator, protocol="modbus-tcp")
    code, out, _ = run(["read", *modbus(gateway, "--address", "2", "--json")])
    assert code == 0
    assert json.loads(out)["values"]["total"] == "4321.09"
    assert run(["relay", "trip", *modbus(gateway, "--address", "2")])[0] == 0
    assert gateway.meters["2"].relay_closed is False
    gateway.meters["3"].dead = True
    silent = ["read", *modbus(gateway, "--address", "3", "--timeout", SILENT)]
    assert run(silent)[0] == cli.EXIT_TIMEOUT


def test_modbus_rtu_over_a_pseudo_terminal(simulator):
    gateway = _modbus_gateway(simulator, transport="pty")
    code, out, _ = run(["read", *modbus(gateway, "--address", "1", "--baud", "9600")])
    assert code == 0
    assert shows(out, "Total energy", "4321.09", "kWh")
