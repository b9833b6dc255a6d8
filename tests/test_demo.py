"""The demo site's data: layout, meters, series, holidays, and the simulator state that
continues it (read back over DL/T 645 from a simulated gateway, as the hardware addon does)."""

import datetime
import pathlib
from decimal import Decimal

import pytest

from prepaid_energy_core import demo, fees
from prepaid_energy_core.calendar import HOLIDAY, WEEKEND, WORKDAY
from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway, meter_addresses
from prepaid_energy_core.transports.tcp import TcpTransport
from prepaid_energy_core.vocabulary import ELECTRICITY, TOU_BANDS, WATER

HOLIDAYS = pathlib.Path(__file__).parent.parent / "data" / "holidays" / "cn_2026.csv"
NOW = datetime.datetime(2026, 12, 2, 7, 10)  # naive UTC: 15:10 in Shanghai


@pytest.fixture(scope="module")
def calendar():
    return demo.holiday_calendar(demo.parse_holidays_csv(HOLIDAYS.read_text(encoding="utf-8")))


def test_forty_units_in_two_buildings_of_five_floors():
    units = demo.units()
    assert len(units) == 40
    assert len({unit["code"] for unit in units}) == 40
    assert {(unit["building"], unit["floor"]) for unit in units} == {
        (building, floor) for building in "AB" for floor in range(1, 6)
    }
    assert all(unit["area"] > 0 for unit in units)


def test_tenants_rent_every_unit_but_the_vacant_ones_once():
    tenants = demo.tenants()
    rented = [code for tenant in tenants for code in tenant["units"]]
    assert len(rented) == len(set(rented)) == 40 - len(demo.VACANT)
    assert not set(rented) & set(demo.VACANT)
    assert {tenant["is_company"] for tenant in tenants} == {True, False}
    logins = {tenant["portal_login"] for tenant in tenants} - {None}
    assert logins == {"tenant1@demo", "tenant2@demo"}
    assert len({tenant["ref"] for tenant in tenants}) == len(tenants)


def test_meters_are_what_the_simulator_serves():
    meters = demo.meters()
    for gateway in (0, 1):
        addresses = [meter["address"] for meter in meters if meter["gateway"] == gateway]
        assert addresses == meter_addresses(demo.PROTOCOL, demo.METERS_PER_GATEWAY, gateway)
    assert len({meter["serial"] for meter in meters}) == len(meters) == 48
    assert sum(meter["utility"] == WATER for meter in meters) == 6
    units = {unit["code"] for unit in demo.units()}
    # every unit has its electricity meter; one common-area meter per building
    assert {m["unit"] for m in meters if m["utility"] == ELECTRICITY} == units | {None}


def test_holiday_file_is_the_state_councils_2026_arrangement(calendar):
    rows = demo.parse_holidays_csv(HOLIDAYS.read_text(encoding="utf-8"))
    assert sum(kind == HOLIDAY for _day, kind, _name in rows) == 33
    workdays = [day.isoformat() for day, kind, _name in rows if kind == WORKDAY]
    assert workdays == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]
    day = datetime.date
    assert calendar.day_type(day(2026, 10, 1)) == HOLIDAY
    assert calendar.day_type(day(2026, 10, 7)) == HOLIDAY  # a Wednesday off
    assert calendar.day_type(day(2026, 10, 10)) == WORKDAY  # a Saturday worked
    assert calendar.day_type(day(2026, 9, 20)) == WORKDAY  # a Sunday worked
    assert calendar.day_type(day(2026, 10, 11)) == WEEKEND


def test_a_bad_holiday_file_is_refused_with_its_line():
    with pytest.raises(ValidationError, match="header"):
        demo.parse_holidays_csv("day,type\n2026-01-01,holiday\n")
    with pytest.raises(ValidationError, match="line 3: kind"):
        demo.parse_holidays_csv("date,kind,name\n2026-01-01,holiday,x\n2026-01-04,work,y\n")
    with pytest.raises(ValidationError, match="listed twice"):
        demo.parse_holidays_csv("date,kind,name\n2026-01-01,holiday,x\n2026-01-01,holiday,y\n")


def test_span_is_three_months_to_the_last_step_on_the_site_clock():
    start, end = demo.demo_span(NOW)
    # 2 December 15:10 Shanghai -> from 2 September 00:00 to 2 December 15:00 local
    assert start == datetime.datetime(2026, 9, 1, 16, 0)
    assert end == datetime.datetime(2026, 12, 2, 7, 0)


def test_series_grow_and_their_bands_add_up(calendar):
    start, end = demo.demo_span(NOW)
    for meter in demo.meters()[::7]:
        series = demo.register_series(meter, start, end, calendar)
        assert series[0][0] == start and series[-1][0] == end
        assert len(series) == (end - start) // datetime.timedelta(hours=demo.STEP_HOURS) + 1
        for (t0, total0, _b0), (t1, total1, bands1) in zip(series, series[1:]):
            assert t1 - t0 == datetime.timedelta(hours=demo.STEP_HOURS)
            assert total1 >= total0
            assert sum(bands1.values()) == total1
        assert series[-1][1] > series[0][1]


def test_offices_work_by_day_and_homes_live_in_the_evening(calendar):
    office = next(m for m in demo.meters() if m["kind"] == "office")
    home = next(m for m in demo.meters() if m["kind"] == "home")
    monday = datetime.datetime(2026, 11, 16)

    def at(meter, hour, day=monday, day_type=WORKDAY):
        return demo.hourly_use(meter, day.replace(hour=hour), day_type)

    assert at(office, 10) > 5 * at(office, 22)
    assert at(office, 10, day_type=HOLIDAY) < at(office, 10) / 5
    assert at(home, 20) > 2 * at(home, 14)


def test_the_same_now_gives_the_same_demo(calendar):
    assert demo.simulator_state(NOW, calendar) == demo.simulator_state(NOW, calendar)
    later = demo.simulator_state(NOW + datetime.timedelta(hours=3), calendar)
    assert later != demo.simulator_state(NOW, calendar)


def test_simulated_gateways_loaded_with_the_state_answer_the_last_demo_reading(calendar):
    start, end = demo.demo_span(NOW)
    state = demo.simulator_state(end, calendar)
    meters = demo.meters()
    last = {m["serial"]: demo.register_series(m, start, end, calendar)[-1] for m in meters}
    with SimulatorServer(tick_interval=None) as server:
        gateways = []
        for index in (0, 1):
            gateway = make_gateway(
                demo.PROTOCOL, demo.METERS_PER_GATEWAY, gateway_index=index, load_kw=Decimal(0)
            )
            server.add_gateway(gateway, "tcp")
            gateways.append(gateway)
        for row in state:  # what `prepaid-simulator --state FILE` does with the file
            sim = gateways[row["gateway"]].meters[row["address"]]
            sim.total = Decimal(row["total"])
            sim.bands.update({band: Decimal(value) for band, value in row["bands"].items()})
        for meter in meters[::5]:
            gateway = gateways[meter["gateway"]]
            with TcpTransport(gateway.host, gateway.port, timeout=1.0) as transport:
                reading = Dlt645Driver(transport).read(meter["address"])
            _when, total, bands = last[meter["serial"]]
            assert reading.total == total
            assert reading.bands == {band: bands[band] for band in TOU_BANDS}


def test_every_unit_kind_pays_an_invoiced_rent_and_a_wallet_property_fee():
    for code in ("A-101", "B-101"):
        schemes = demo.unit_fee_schemes(code)
        assert {scheme["kind"] for scheme in schemes} == {demo.unit_kind(code)}
        assert {(scheme["fee_type"], scheme["collection"]) for scheme in schemes} == {
            (fees.RENT, fees.INVOICE),
            (fees.PROPERTY, fees.WALLET),
        }
        assert all(scheme["rate"] > 0 for scheme in schemes)
    assert len({scheme["code"] for scheme in demo.fee_schemes()}) == len(demo.FEE_SCHEMES)


def test_billing_months_of_the_span():
    start, end = demo.demo_span(NOW)
    assert demo.span_days(start, end) == (datetime.date(2026, 9, 2), datetime.date(2026, 12, 2))
    # 2 December: November is the last month covered whole, December is not over
    assert demo.last_full_month(start, end) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 30),
    )
    assert demo.invoice_until(end) == datetime.date(2026, 12, 1)
    # a span ending on a month's last day (site clock) covers that month whole
    month_end = datetime.datetime(2026, 11, 30, 15, 0)  # 23:00 in Shanghai
    assert demo.last_full_month(start, month_end) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 30),
    )
    with pytest.raises(ValidationError, match="no whole month"):
        demo.last_full_month(datetime.datetime(2026, 11, 10), datetime.datetime(2026, 12, 2))


def test_wallet_fees_are_the_property_fee_of_the_span_charged_in_advance():
    start, end = demo.demo_span(NOW)
    # 114.50 m² x 10.00 = 1,145.00 a month; 2-30 September is 29 of 30 days:
    # 1,145.00 x 29 / 30 = 1,106.8333 -> 1,106.83; October, November and December
    # (charged on its first day) whole: 1,106.83 + 3 x 1,145.00 = 4,541.83
    assert demo.wallet_fees("A-101", start, end) == Decimal("4541.83")
    # B-101: 107 m² x 3.50 = 374.50; 374.50 x 29 / 30 = 362.0167 -> 362.02
    assert demo.wallet_fees("B-101", start, end) == Decimal("362.02") + 3 * Decimal("374.50")


def test_common_share_bounds_cover_the_building_split_by_area():
    quantity = Decimal("1078.06")
    for building in ("A", "B"):
        occupied = [
            unit["code"]
            for unit in demo.units()
            if unit["building"] == building and unit["code"] not in demo.VACANT
        ]
        bounds = sum(demo.common_share_bound(code, quantity) for code in occupied)
        total = quantity * demo.COMMON_AREA_PRICE
        # each bound is its area's share, rounded, plus a cent: together at least the total
        assert total <= bounds <= total + Decimal("0.015") * len(occupied)
