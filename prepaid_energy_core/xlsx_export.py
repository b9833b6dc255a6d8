"""XLSX workbooks of tabular reports (xlsxwriter): frozen header, real number formats, totals.

The addons hand over plain rows; the workbook is built here so it can be tested
without Odoo (read back with openpyxl)::

    columns = [Column("serial", "Meter"), Column("balance", "Balance", MONEY, total=True)]
    data = build_workbook("Meter status", columns, [{"serial": "A1", "balance": Decimal("3.5")}])

Numbers are written as numbers (Decimal converted exactly to the nearest
double), dates and datetimes as Excel dates, booleans as booleans, None as an
empty cell; a totals row sums the columns that ask for it with a formula
(and its cached value, so readers that do not compute formulas see it too).
"""

import dataclasses
import datetime
import io
from decimal import Decimal

import xlsxwriter

from .errors import ValidationError

TEXT = "text"
INTEGER = "integer"
NUMBER = "number"  # 3 decimals: kWh, m³
MONEY = "money"  # 2 decimals
DATETIME = "datetime"
BOOLEAN = "boolean"
KINDS = (TEXT, INTEGER, NUMBER, MONEY, DATETIME, BOOLEAN)
_NUMBER_FORMATS = {
    INTEGER: "0",
    NUMBER: "#,##0.000",
    MONEY: "#,##0.00",
    DATETIME: "yyyy-mm-dd hh:mm",
}
_WIDTHS = {TEXT: 24, INTEGER: 10, NUMBER: 14, MONEY: 14, DATETIME: 17, BOOLEAN: 9}


@dataclasses.dataclass(frozen=True)
class Column:
    """One column: the row key it shows, its header, its kind, whether it is totalled."""

    key: str
    header: str
    kind: str = TEXT
    total: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValidationError(f"column {self.key}: kind must be one of {', '.join(KINDS)}")
        if self.total and self.kind not in (INTEGER, NUMBER, MONEY):
            raise ValidationError(f"column {self.key}: only numbers can be totalled")


def build_workbook(title, columns, rows, totals_label="Total"):
    """The XLSX file (bytes) of ``rows`` (dicts) under ``columns`` on one sheet."""
    columns = list(columns)
    if not columns:
        raise ValidationError("a workbook needs at least one column")
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet(_sheet_name(title))
    header = workbook.add_format({"bold": True, "bottom": 1, "bg_color": "#EDEDED"})
    formats = {
        kind: workbook.add_format({"num_format": fmt}) for kind, fmt in _NUMBER_FORMATS.items()
    }
    bold = {
        kind: workbook.add_format({"num_format": fmt, "bold": True, "top": 1})
        for kind, fmt in _NUMBER_FORMATS.items()
    }
    for position, column in enumerate(columns):
        sheet.write_string(0, position, column.header, header)
        sheet.set_column(position, position, _WIDTHS[column.kind])
    sums = [Decimal(0)] * len(columns)
    for index, row in enumerate(rows, start=1):
        for position, column in enumerate(columns):
            value = row.get(column.key)
            _write(sheet, index, position, column, value, formats)
            if column.total and value not in (None, False):
                sums[position] += Decimal(str(value))
    last = len(rows)
    sheet.freeze_panes(1, 0)
    if last:
        sheet.autofilter(0, 0, last, len(columns) - 1)
    if any(column.total for column in columns):
        total_row = last + 1
        sheet.write_string(
            total_row, 0, totals_label, workbook.add_format({"bold": True, "top": 1})
        )
        for position, column in enumerate(columns):
            if not column.total or position == 0:
                continue
            letter = xlsxwriter.utility.xl_col_to_name(position)
            formula = f"=SUBTOTAL(9,{letter}2:{letter}{last + 1})" if last else "=0"
            sheet.write_formula(
                total_row, position, formula, bold[column.kind], float(sums[position])
            )
    workbook.close()
    return output.getvalue()


def _write(sheet, row, position, column, value, formats):
    if value is None or (value is False and column.kind != BOOLEAN):
        sheet.write_blank(row, position, None)
    elif column.kind == BOOLEAN:
        sheet.write_boolean(row, position, bool(value))
    elif column.kind == DATETIME:
        if not isinstance(value, (datetime.date, datetime.datetime)):
            raise ValidationError(f"column {column.key}: {value!r} is not a date")
        sheet.write_datetime(row, position, value, formats[DATETIME])
    elif column.kind in (INTEGER, NUMBER, MONEY):
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ValidationError(f"column {column.key}: {value!r} is not a number")
        sheet.write_number(row, position, float(value), formats[column.kind])
    else:
        sheet.write_string(row, position, str(value))


def _sheet_name(title):
    # Excel: at most 31 characters, none of []:*?/\
    name = "".join("-" if char in "[]:*?/\\" else char for char in title)[:31]
    return name or "Sheet1"
