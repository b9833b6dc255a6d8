"""XLSX files of reports (xlsxwriter): real number formats, frozen headers, totals.

The addons hand plain rows (dicts) over; the file is built here, so it is
tested without Odoo (read back with openpyxl)::

    columns = [Column("day", "Day", DATE), Column("net", "Net", MONEY, total=True)]
    data = build_workbook("Sales", columns, rows, notes=["Company: Harbour Ltd"])

Each sheet: optional note lines (title, filters) above the header, the header
row frozen with an auto-filter, one row per dict, and a totals row that sums
the columns asking for it with a ``SUBTOTAL(9, ...)`` formula (it follows the
auto-filter) whose cached value is the exact Decimal sum, so readers that do
not compute formulas see the total too. Numbers are written as numbers
(Decimal converted to the nearest double), dates as Excel dates, booleans as
booleans, None or False as an empty cell.
"""

import dataclasses
import datetime
import io
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from .errors import ValidationError

TEXT = "text"
INTEGER = "integer"
QUANTITY = "quantity"  # kWh, m³: 3 decimals by default
MONEY = "money"  # 2 decimals by default (the currency's digits)
PERCENT = "percent"  # a percentage figure (12.5 means 12.5 %), 2 decimals
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
KINDS = (TEXT, INTEGER, QUANTITY, MONEY, PERCENT, DATE, DATETIME, BOOLEAN)
NUMERIC_KINDS = (INTEGER, QUANTITY, MONEY, PERCENT)
_DEFAULT_DIGITS = {INTEGER: 0, QUANTITY: 3, MONEY: 2, PERCENT: 2}
_WIDTHS = {
    TEXT: 26,
    INTEGER: 10,
    QUANTITY: 14,
    MONEY: 15,
    PERCENT: 10,
    DATE: 12,
    DATETIME: 18,
    BOOLEAN: 9,
}
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclasses.dataclass(frozen=True)
class Column:
    """One column: the row key it shows, its header, its kind, whether it is totalled.

    ``digits``: decimals of a numeric column (default: 3 for quantities, 2 for
    money and percentages, 0 for integers).
    """

    key: str
    header: str
    kind: str = TEXT
    total: bool = False
    digits: int | None = None
    width: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValidationError.of(
                "xlsx.column_kind", key=self.key, kind=self.kind, kinds=", ".join(KINDS)
            )
        if self.total and self.kind not in (INTEGER, QUANTITY, MONEY):
            raise ValidationError.of("xlsx.total_not_number", key=self.key)

    @property
    def number_format(self):
        if self.kind == DATE:
            return DATE_FORMAT
        if self.kind == DATETIME:
            return DATETIME_FORMAT
        if self.kind not in NUMERIC_KINDS:
            return None
        digits = _DEFAULT_DIGITS[self.kind] if self.digits is None else self.digits
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return pattern + ('" %"' if self.kind == PERCENT else "")


@dataclasses.dataclass(frozen=True)
class Sheet:
    """One worksheet: title (the tab's name), columns, rows and note lines above them."""

    title: str
    columns: tuple
    rows: tuple
    notes: tuple = ()
    totals_label: str = "Total"


def build_workbook(title, columns, rows, notes=(), totals_label="Total"):
    """The XLSX file (bytes) of ``rows`` (dicts) under ``columns`` on one sheet."""
    return build([Sheet(title, tuple(columns), tuple(rows), tuple(notes), totals_label)])


def build(sheets):
    """The XLSX file (bytes) of ``sheets`` (a list of :class:`Sheet`), in order."""
    if not sheets:
        raise ValidationError.of("xlsx.no_sheet")
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    styles = _Styles(workbook)
    used = set()
    for sheet in sheets:
        _write_sheet(workbook, styles, sheet, _sheet_name(sheet.title, used))
    workbook.close()
    return output.getvalue()


class _Styles:
    """The workbook's formats, made once per (number format, bold) pair."""

    def __init__(self, workbook):
        self.workbook = workbook
        self.cache = {}
        self.note = workbook.add_format({"italic": True})
        self.title = workbook.add_format({"bold": True, "font_size": 13})
        self.header = workbook.add_format(
            {"bold": True, "bottom": 1, "bg_color": "#E8E8E8", "text_wrap": True}
        )
        self.total_label = workbook.add_format({"bold": True, "top": 1})

    def cell(self, column, total=False):
        key = (column.number_format, total)
        if key not in self.cache:
            properties = {"num_format": column.number_format} if column.number_format else {}
            if total:
                properties.update(bold=True, top=1)
            self.cache[key] = self.workbook.add_format(properties) if properties else None
        return self.cache[key]


def _write_sheet(workbook, styles, sheet, name):
    columns = list(sheet.columns)
    if not columns:
        raise ValidationError.of("xlsx.no_column", sheet=sheet.title)
    worksheet = workbook.add_worksheet(name)
    for line, note in enumerate(sheet.notes):
        worksheet.write_string(line, 0, str(note), styles.title if line == 0 else styles.note)
    header_row = len(sheet.notes) + (1 if sheet.notes else 0)
    for position, column in enumerate(columns):
        worksheet.write_string(header_row, position, column.header, styles.header)
        worksheet.set_column(position, position, column.width or _WIDTHS[column.kind])
    sums = [Decimal(0)] * len(columns)
    first_data = header_row + 1
    for offset, row in enumerate(sheet.rows):
        for position, column in enumerate(columns):
            value = row.get(column.key)
            _write_cell(worksheet, first_data + offset, position, column, value, styles)
            if column.total and value is not None and value is not False:
                sums[position] += _decimal(value)
    last_data = first_data + len(sheet.rows) - 1
    worksheet.freeze_panes(first_data, 0)
    if sheet.rows:
        worksheet.autofilter(header_row, 0, last_data, len(columns) - 1)
    if not any(column.total for column in columns):
        return
    total_row = last_data + 1
    worksheet.write_string(total_row, 0, sheet.totals_label, styles.total_label)
    for position, column in enumerate(columns):
        if not column.total or position == 0:
            continue
        letter = xl_col_to_name(position)
        formula = (
            f"=SUBTOTAL(9,{letter}{first_data + 1}:{letter}{last_data + 1})" if sheet.rows else "=0"
        )
        worksheet.write_formula(
            total_row, position, formula, styles.cell(column, total=True), float(sums[position])
        )


def _decimal(value):
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _write_cell(worksheet, row, position, column, value, styles):
    style = styles.cell(column)
    if value is None or (value is False and column.kind != BOOLEAN):
        worksheet.write_blank(row, position, None, style)
    elif column.kind == BOOLEAN:
        worksheet.write_boolean(row, position, bool(value))
    elif column.kind in (DATE, DATETIME):
        if not isinstance(value, datetime.date):
            raise ValidationError.of("xlsx.not_a_date", key=column.key, value=value)
        if column.kind == DATE and isinstance(value, datetime.datetime):
            value = value.date()
        worksheet.write_datetime(row, position, value, style)
    elif column.kind in NUMERIC_KINDS:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ValidationError.of("xlsx.not_a_number", key=column.key, value=value)
        worksheet.write_number(row, position, float(value), style)
    else:
        worksheet.write_string(row, position, str(value))


def _sheet_name(title, used):
    """A valid, unique tab name: at most 31 characters, none of ``[]:*?/\\``."""
    base = "".join("-" if char in "[]:*?/\\" else char for char in str(title)).strip()[:31]
    base = base or "Sheet"
    name, number = base, 2
    while name.lower() in used:
        suffix = f" ({number})"
        name = base[: 31 - len(suffix)] + suffix
        number += 1
    used.add(name.lower())
    return name
