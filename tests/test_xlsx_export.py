"""The XLSX builder, read back with openpyxl: header, frozen pane, number formats, totals."""

import datetime
import io
from decimal import Decimal

import pytest

openpyxl = pytest.importorskip("openpyxl")

from prepaid_energy_core.errors import ValidationError  # noqa: E402
from prepaid_energy_core.xlsx_export import (  # noqa: E402
    BOOLEAN,
    DATETIME,
    MONEY,
    NUMBER,
    Column,
    build_workbook,
)

COLUMNS = [
    Column("serial", "Meter"),
    Column("balance", "Balance", MONEY, total=True),
    Column("today", "Today (kWh)", NUMBER, total=True),
    Column("online", "Online", BOOLEAN),
    Column("read_at", "Last reading", DATETIME),
]
ROWS = [
    {
        "serial": "EL-1",
        "balance": Decimal("12.30"),
        "today": Decimal("1.250"),
        "online": True,
        "read_at": datetime.datetime(2025, 3, 3, 8, 15),
    },
    {"serial": "EL-2", "balance": Decimal("-4.05"), "today": 0, "online": False, "read_at": None},
]


def sheet_of(data):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_rows_are_real_numbers_with_formats_and_a_frozen_header():
    sheet = sheet_of(build_workbook("Meter status", COLUMNS, ROWS))
    assert sheet.title == "Meter status"
    assert [cell.value for cell in sheet[1]] == [c.header for c in COLUMNS]
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].value == pytest.approx(12.30)
    assert sheet["B2"].number_format == "#,##0.00"
    assert sheet["C2"].number_format == "#,##0.000"
    assert sheet["D2"].value is True and sheet["D3"].value is False
    assert sheet["E2"].value == datetime.datetime(2025, 3, 3, 8, 15)
    assert sheet["E3"].value is None
    assert sheet["A4"].value == "Total"
    assert sheet["B4"].value == "=SUBTOTAL(9,B2:B3)"


def test_totals_carry_their_value_for_readers_that_do_not_compute():
    data = build_workbook("Meter status", COLUMNS, ROWS)
    values = openpyxl.load_workbook(io.BytesIO(data), data_only=True).active
    assert values["B4"].value == pytest.approx(8.25)
    assert values["C4"].value == pytest.approx(1.25)


def test_bad_values_and_columns_are_refused():
    with pytest.raises(ValidationError, match="not a number"):
        build_workbook("x", COLUMNS, [{"balance": "lots"}])
    with pytest.raises(ValidationError, match="only numbers"):
        Column("serial", "Meter", total=True)
    with pytest.raises(ValidationError, match="at least one column"):
        build_workbook("x", [], [])


def test_sheet_names_are_what_excel_accepts():
    sheet = sheet_of(build_workbook("Status: site A/B [2025] and a very long title", COLUMNS, []))
    assert sheet.title == "Status- site A-B -2025- and a v"
