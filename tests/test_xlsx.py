"""XLSX builder: number formats, frozen header, totals, read back with openpyxl."""

import datetime
import io
from decimal import Decimal as D

import openpyxl
import pytest

from prepaid_energy_core import xlsx
from prepaid_energy_core.errors import ValidationError

COLUMNS = [
    xlsx.Column("day", "Day", xlsx.DATE),
    xlsx.Column("channel", "Channel"),
    xlsx.Column("count", "Documents", xlsx.INTEGER, total=True),
    xlsx.Column("kwh", "kWh", xlsx.QUANTITY, total=True),
    xlsx.Column("net", "Net", xlsx.MONEY, total=True),
    xlsx.Column("share", "Share", xlsx.PERCENT),
    xlsx.Column("flag", "Flag", xlsx.BOOLEAN),
    xlsx.Column("at", "Booked at", xlsx.DATETIME),
]
ROWS = [
    {
        "day": datetime.date(2025, 3, 1),
        "channel": "Cash",
        "count": 2,
        "kwh": D("12.345"),
        "net": D("100.10"),
        "share": D("62.5"),
        "flag": True,
        "at": datetime.datetime(2025, 3, 1, 9, 30),
    },
    {
        "day": datetime.date(2025, 3, 2),
        "channel": "=SUM(A1)",  # text stays text, never a formula
        "count": 1,
        "kwh": None,
        "net": D("-0.20"),
        "share": None,
        "flag": False,
        "at": None,
    },
]


def load(data, data_only=False):
    return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)


def test_header_frozen_numbers_typed_totals_summed():
    data = xlsx.build_workbook("Sales: March", COLUMNS, ROWS, notes=["Sales", "Company: Harbour"])
    sheet = load(data).active
    assert sheet.title == "Sales- March"  # ':' is not allowed in a tab name
    assert sheet["A1"].value == "Sales" and sheet["A2"].value == "Company: Harbour"
    assert [cell.value for cell in sheet[4]] == [column.header for column in COLUMNS]
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:H6"
    day_cell, channel, count, kwh, net, share, flag, at = sheet[5]
    assert (
        day_cell.value == datetime.datetime(2025, 3, 1) and day_cell.number_format == "yyyy-mm-dd"
    )
    assert count.value == 2 and count.number_format == "#,##0"
    assert kwh.value == pytest.approx(12.345) and kwh.number_format == "#,##0.000"
    assert net.value == pytest.approx(100.10) and net.number_format == "#,##0.00"
    assert share.number_format == '#,##0.00" %"'
    assert flag.value is True and at.value == datetime.datetime(2025, 3, 1, 9, 30)
    assert sheet["B6"].value == "=SUM(A1)" and sheet["B6"].data_type == "s"
    assert sheet["D6"].value is None
    assert sheet["A7"].value == "Total"
    assert sheet["C7"].value == "=SUBTOTAL(9,C5:C6)"
    assert sheet["E7"].value == "=SUBTOTAL(9,E5:E6)"
    cached = load(data, data_only=True).active
    assert cached["C7"].value == 3
    assert cached["D7"].value == pytest.approx(12.345)
    assert cached["E7"].value == pytest.approx(99.90)


def test_several_sheets_with_unique_names_and_an_empty_one():
    data = xlsx.build(
        [
            xlsx.Sheet("Report", tuple(COLUMNS), tuple(ROWS)),
            xlsx.Sheet("Report", (xlsx.Column("n", "N", xlsx.MONEY, total=True),), ()),
        ]
    )
    book = load(data)
    assert book.sheetnames == ["Report", "Report (2)"]
    empty = book["Report (2)"]
    assert empty.freeze_panes == "A2" and empty["A2"].value == "Total"


@pytest.mark.parametrize(
    ("column", "row", "code"),
    [
        (xlsx.Column("n", "N", xlsx.MONEY), {"n": "12"}, "xlsx.not_a_number"),
        (xlsx.Column("d", "D", xlsx.DATE), {"d": "2025-01-01"}, "xlsx.not_a_date"),
    ],
)
def test_bad_cells_are_refused(column, row, code):
    with pytest.raises(ValidationError) as caught:
        xlsx.build_workbook("x", [column], [row])
    assert caught.value.code == code


def test_bad_columns_are_refused():
    with pytest.raises(ValidationError):
        xlsx.Column("a", "A", "colour")
    with pytest.raises(ValidationError):
        xlsx.Column("a", "A", xlsx.TEXT, total=True)
    with pytest.raises(ValidationError):
        xlsx.build([])
    with pytest.raises(ValidationError):
        xlsx.build_workbook("x", [], [])
