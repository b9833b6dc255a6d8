"""Register maps: the shipped maps load, decoding is exact, bad maps say what is wrong."""

import copy
import json
import struct
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.errors import ProtocolError, ValidationError
from prepaid_energy_core.register_maps import (
    Point,
    ValueFormat,
    builtin_names,
    float32_to_decimal,
    load_builtin,
    load_register_map,
    plan_reads,
)

D = Decimal


def minimal_map(**changes):
    data = {
        "model": "Test meter",
        "vendor": "Test",
        "protocol": "modbus-rtu",
        "baudrate": 9600,
        "parity": "N",
        "points": [
            {"name": "total", "function": 3, "address": 0, "type": "uint32",
             "scale": "0.01", "unit": "kWh"},
            {"name": "voltage", "function": 3, "address": 2, "type": "uint16",
             "scale": "0.1", "unit": "V"},
        ],
    }  # fmt: skip
    data.update(changes)
    return data


def with_point(index, **changes):
    data = minimal_map()
    data["points"][index].update(changes)
    return data


# -- shipped maps ----------------------------------------------------------------------
def test_every_builtin_map_loads():
    names = builtin_names()
    assert {"generic", "eastron_sdm630", "acrel_ddsy1352"} <= set(names)
    for name in names:
        register_map = load_builtin(name)
        assert register_map.points and register_map.source == f"{name}.json"


def test_generic_map_has_every_point_and_command():
    generic = load_builtin("generic")
    names = {point.name for point in generic.points}
    assert names >= {
        "total", "sharp", "peak", "flat", "valley",
        "voltage", "current", "power", "balance", "purchase_count", "relay_state",
    }  # fmt: skip
    assert set(generic.relay_control) == {
        "trip", "close", "close_allowed", "keep_power_on", "keep_power_off"
    }  # fmt: skip
    assert generic.credit is not None and generic.clock is not None


def test_sdm630_addresses_from_the_eastron_protocol_document():
    # 30001 -> 0x0000 phase 1 voltage, 30007 -> 0x0006 phase 1 current,
    # 30053 -> 0x0034 total system power, 30343 -> 0x0156 total kWh;
    # input registers (function 04), float32
    sdm = load_builtin("eastron_sdm630")
    expected = {"voltage": 0x0000, "current": 0x0006, "power": 0x0034, "total": 0x0156}
    for name, address in expected.items():
        point = sdm.point(name)
        assert (point.function, point.address, point.format.type) == (4, address, "float32")
    assert sdm.point("power").format.scale == D("0.001")  # W on the wire, kW in readings
    assert sdm.relay_control == {} and sdm.credit is None


def test_acrel_map_flags_what_is_unverified():
    acrel = load_builtin("acrel_ddsy1352")
    assert acrel.point("voltage").address == 0x000B
    assert any("word order" in item for item in acrel.to_verify)
    assert acrel.point("balance") is None  # not invented


def test_load_builtin_accepts_a_path(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(minimal_map()))
    assert load_builtin(str(path)).model == "Test meter"


def test_unknown_builtin_lists_the_available_maps():
    with pytest.raises(ValidationError, match=r"no register map 'nope' .*available: .*generic"):
        load_builtin("nope")


# -- read planning ----------------------------------------------------------------------------
def test_generic_is_read_in_one_request():
    # every point, relay status word included, in holding registers 0x0000..0x0011
    plan = load_builtin("generic").read_plan
    assert [(b.function, b.address, b.count) for b in plan] == [(3, 0, 18)]


def test_points_of_different_tables_are_read_separately():
    points = [Point("relay_state", 1, 0, None), *_register_points([0, 1])]
    plan = plan_reads(points)
    assert [(b.function, b.address, b.count) for b in plan] == [(1, 0, 1), (3, 0, 2)]


def test_sdm630_plan_bridges_small_gaps_only():
    # 0x0000-0x0007 (gap of 4 bridged); 0x0034..0x0049 (gaps 6 and 0 bridged);
    # 0x0156 alone (gap of 268 registers > 16)
    plan = load_builtin("eastron_sdm630").read_plan
    assert [(b.address, b.count) for b in plan] == [(0x0000, 8), (0x0034, 22), (0x0156, 2)]


def _register_points(addresses, type_="uint16"):
    names = ["voltage", "current", "power", "balance", "frequency", "power_factor"]
    fmt = ValueFormat(type_)
    return [Point(names[i], 3, address, fmt) for i, address in enumerate(addresses)]


def test_plan_respects_the_read_limit():
    # three float32 at 0, 60, 120: 0..62 and 60..122 fit in 125 registers,
    # 0..122 does too (122 <= 125), so one request; with a limit of 80, two.
    points = _register_points([0, 60, 120], "float32")
    assert [(b.address, b.count) for b in plan_reads(points, 125, 100)] == [(0, 122)]
    assert [(b.address, b.count) for b in plan_reads(points, 80, 100)] == [(0, 62), (120, 2)]


def test_plan_with_no_gap_allowed_reads_adjacent_points_together():
    points = _register_points([0, 1, 3])
    assert [(b.address, b.count) for b in plan_reads(points, 125, 0)] == [(0, 2), (3, 1)]


# -- decoding --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("3F800000", "1"),  # IEEE 754: 1.0
        ("C0000000", "-2"),  # -2.0
        ("41200000", "10"),  # 10.0
        ("4366199A", "230.1"),  # nearest float32 to 230.1 is 230.100006103515625
        ("3DCCCCCD", "0.1"),  # 0.100000001490116
        ("458EBF1F", "4567.89"),  # 4567.89013671875
        ("00000000", "0"),
        ("80000000", "0"),  # -0.0
    ],
)
def test_float32_reads_as_the_shortest_decimal(raw, expected):
    assert float32_to_decimal(bytes.fromhex(raw)) == D(expected)
    assert str(float32_to_decimal(bytes.fromhex(raw))) == expected


@pytest.mark.parametrize("raw", ["7FC00000", "7F800000", "FF800000"])
def test_float32_nan_and_infinity_are_protocol_errors(raw):
    with pytest.raises(ProtocolError, match="float32 register value"):
        float32_to_decimal(bytes.fromhex(raw))


@pytest.mark.parametrize(
    "fmt, words, expected",
    [
        # 0x0001_0002 = 65538 -> * 0.01 = 655.38
        (ValueFormat("uint32", D("0.01")), [0x0001, 0x0002], D("655.38")),
        # low word first: 0x0002_0001 = 131073 -> 1310.73
        (ValueFormat("uint32", D("0.01"), word_order="little"), [0x0001, 0x0002], D("1310.73")),
        # bytes swapped inside each register: 01 00 | 02 00 -> 00 01 00 02 = 65538
        (ValueFormat("uint32", D("0.01"), byte_order="little"), [0x0100, 0x0200], D("655.38")),
        (ValueFormat("int16", D("0.001")), [0xFFFF], D("-0.001")),
        (ValueFormat("int32"), [0xFFFF, 0xFFFE], D("-2")),
        # float32 2300 W with scale 0.001 -> 2.300 kW
        (ValueFormat("float32", D("0.001")), [0x450F, 0xC000], D("2.3")),
        # float32 230.1 low word first
        (ValueFormat("float32", word_order="little"), [0x199A, 0x4366], D("230.1")),
        # 12.345 rounded half even to 2 places -> 12.34
        (ValueFormat("uint16", D("0.001"), decimals=2), [12345], D("12.34")),
    ],
)
def test_value_formats_decode(fmt, words, expected):
    assert fmt.decode(words) == expected


def test_exact_encoding_refuses_to_round_money():
    fmt = ValueFormat("uint32", D("0.01"))
    assert fmt.encode(D("50.25")) == [0, 5025]
    with pytest.raises(ValidationError, match="amount 50.255 is not a multiple of the step 0.01"):
        fmt.encode(D("50.255"), what="amount")
    with pytest.raises(ValidationError, match="does not fit a uint32"):
        fmt.encode(D("-1"))


def test_relay_state_in_a_status_register_bit():
    # bit 2 of the register set means closed
    point = Point("relay_state", 3, 0, ValueFormat("uint16"), bit=2)
    assert point.decode([0b100]) is True and point.decode([0b011]) is False
    assert point.encode(True) == [0b100]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["uint16", "int16", "uint32", "int32"]),
    st.sampled_from(["big", "little"]),
    st.sampled_from(["big", "little"]),
    st.integers(-(2**31), 2**32 - 1),
    st.sampled_from(["1", "0.1", "0.01", "0.001"]),
)
def test_integer_formats_round_trip(type_, byte_order, word_order, raw, scale):
    fmt = ValueFormat(type_, D(scale), byte_order, word_order)
    value = D(raw) * D(scale)
    try:
        words = fmt.encode(value)
    except ValidationError:
        return  # out of the type's range
    assert fmt.decode(words) == value


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=4, max_size=4))
def test_float32_decoding_round_trips_to_the_same_bits(raw):
    try:
        value = float32_to_decimal(raw)
    except ProtocolError:
        return
    if struct.unpack(">f", raw)[0] != 0:
        assert struct.pack(">f", float(value)) == raw


# -- bad maps: the message says what and where -----------------------------------------------------
BAD_MAPS = [
    (
        with_point(1, type="uint8"),
        "<dict>: point 'voltage': field 'type': unknown type 'uint8' "
        "(expected one of 'float32', 'int16', 'int32', 'uint16', 'uint32')",
    ),
    (
        with_point(1, address=1),
        "<dict>: points 'total' and 'voltage': overlap at address 0x0001 of function 3",
    ),
    (
        minimal_map(points=[{"name": "voltage", "function": 3, "type": "uint16", "unit": "V"}]),
        "<dict>: point 'voltage': missing field 'address'",
    ),
    (
        minimal_map(points=[{"function": 3, "address": 0, "type": "uint16"}]),
        "<dict>: point #1: missing field 'name'",
    ),
    (
        with_point(0, scale=0.01),
        "<dict>: point 'total': field 'scale': write it as a string such as \"0.01\", "
        "not the JSON number 0.01 (a float cannot hold 0.01 exactly)",
    ),
    (
        with_point(0, scale="one cent"),
        "<dict>: point 'total': field 'scale': not a decimal number: 'one cent'",
    ),
    (
        with_point(0, scale="-0.01"),
        "<dict>: point 'total': field 'scale': must be a positive number, got '-0.01'",
    ),
    (
        with_point(0, word_order="middle"),
        "<dict>: point 'total': field 'word_order': unknown word order 'middle' "
        "(expected one of 'big', 'little')",
    ),
    (
        minimal_map(byte_order="network"),
        "<dict>: field 'byte_order': unknown byte order 'network' "
        "(expected one of 'big', 'little')",
    ),
    (
        with_point(1, adress=5),
        "<dict>: point 'voltage': unknown field 'adress' (allowed: address, bit, byte_order, "
        "closed_value, decimals, function, name, note, scale, type, unit, word_order)",
    ),
    (
        with_point(1, name="temperature"),
        "<dict>: point 'temperature': field 'name': unknown point name 'temperature'",
    ),
    (
        with_point(1, name="power", unit="W"),
        "<dict>: point 'power': field 'unit': power must be in 'kW', got 'W' "
        "(convert with 'scale': \"0.001\" turns W into kW, Wh into kWh)",
    ),
    (
        with_point(1, name="total", unit="kWh"),
        "<dict>: point 'total': defined twice",
    ),
    (
        with_point(1, address="0x1G"),
        "<dict>: point 'voltage': field 'address': not a hexadecimal number: '0x1G'",
    ),
    (
        with_point(1, address=70000),
        "<dict>: point 'voltage': field 'address': 70000 is outside 0..65535",
    ),
    (
        with_point(1, function=6),
        "<dict>: point 'voltage': field 'function': unknown function 6 "
        "(expected one of 1, 2, 3, 4)",
    ),
    (
        minimal_map(relay_control={"explode": {"function": 5, "address": 0, "value": True}}),
        "<dict>: relay_control 'explode': field 'action': unknown relay action 'explode'",
    ),
    (
        minimal_map(relay_control={"trip": {"function": 5, "address": 0, "value": 0}}),
        "<dict>: relay_control 'trip': field 'value': a coil takes true or false, got 0",
    ),
    (
        minimal_map(credit={"address": 512, "fields": [{"name": "amount", "type": "uint32"}]}),
        "<dict>: credit: field 'fields': needs purchase_count and amount once each, got ['amount']",
    ),
    (
        minimal_map(
            credit={
                "address": 512,
                "fields": [
                    {"name": "purchase_count", "type": "uint32"},
                    {"name": "amount", "type": "uint32"},
                ],
            },
            clock={"address": 514},
        ),  # fmt: skip
        "<dict>: credit and clock: write areas overlap at 0x0202",
    ),
    (
        {k: v for k, v in minimal_map().items() if k != "baudrate"},
        "<dict>: missing field 'baudrate'",
    ),
    (
        minimal_map(protocol="modbus-ascii"),
        "<dict>: field 'protocol': unknown protocol 'modbus-ascii' "
        "(expected one of 'modbus-rtu', 'modbus-tcp')",
    ),
]


@pytest.mark.parametrize("data, message", BAD_MAPS, ids=range(len(BAD_MAPS)))
def test_bad_maps_say_exactly_what_is_wrong(data, message):
    with pytest.raises(ValidationError) as error:
        load_register_map(copy.deepcopy(data))
    assert str(error.value).startswith(message)


def test_a_good_minimal_map_loads():
    register_map = load_register_map(minimal_map())
    assert [p.name for p in register_map.points] == ["total", "voltage"]


def test_errors_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(with_point(1, type="uint8")))
    with pytest.raises(ValidationError, match=r"^broken\.json: point 'voltage': field 'type'"):
        load_register_map(path)


def test_invalid_json_says_where(tmp_path):
    path = tmp_path / "syntax.json"
    path.write_text('{"model": "x",\n "points": [}')
    with pytest.raises(
        ValidationError, match=r"^syntax\.json: not valid JSON: .* line 2 column 13"
    ):
        load_register_map(path)


def test_missing_file_is_a_validation_error(tmp_path):
    with pytest.raises(ValidationError, match="cannot read register map"):
        load_register_map(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("total_energy", "total"),
        ("sharp_energy", "sharp"),
        ("peak_energy", "peak"),
        ("flat_energy", "flat"),
        ("valley_energy", "valley"),
    ],
)
def test_former_register_names_are_refused_with_the_new_name(old, new):
    # registers have one name everywhere (MeterReading.total, engine, readings, Odoo):
    # a map written with the former names says which name to use instead
    with pytest.raises(ValidationError) as refused:
        load_register_map(with_point(0, name=old))
    assert str(refused.value) == (
        f"<dict>: point {old!r}: field 'name': {old!r} is now called {new!r} "
        "(registers have one name everywhere: total, sharp, peak, flat, valley)"
    )


def test_shipped_maps_name_the_registers_as_the_vocabulary_does():
    from prepaid_energy_core.vocabulary import REGISTERS

    generic = load_builtin("generic")
    assert [p.name for p in generic.points[:5]] == list(REGISTERS)
    for name in builtin_names():
        names = {p.name for p in load_builtin(name).points}
        assert not {n for n in names if n.endswith("_energy")} - {"import_energy", "export_energy"}
