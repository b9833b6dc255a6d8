import base64
import csv
import io

from odoo import fields, models
from odoo.exceptions import UserError

from prepaid_energy_core.ingestion import row_from_cells
from prepaid_energy_core.vocabulary import REGISTERS, SOURCE_IMPORT

COLUMNS = ("serial", "timestamp", *REGISTERS)
REQUIRED = 3
#: bad rows listed in the preview (the import error always lists them all)
PREVIEW_LIMIT = 50


class PrepaidReadingImport(models.TransientModel):
    _name = "prepaid.reading.import"
    _description = "Import meter readings from CSV"

    file = fields.Binary(string="CSV file", required=True)
    filename = fields.Char()
    state = fields.Selection(
        [("upload", "Upload"), ("preview", "Preview"), ("done", "Done")], default="upload"
    )
    row_count = fields.Integer(readonly=True)
    new_count = fields.Integer(string="New readings", readonly=True)
    duplicate_count = fields.Integer(string="Already stored", readonly=True)
    error_count = fields.Integer(string="Bad rows", readonly=True)
    summary = fields.Text(readonly=True)

    def _read_rows(self):
        """Rows of the file as _ingest wants them, each with its file ``line`` number.

        Columns: serial, timestamp (UTC, or with its offset: 2025-01-15T08:00:00+08:00),
        total[, sharp, peak, flat, valley] (every band or none); a first line starting
        with "serial" is a header naming the columns.
        """
        self.ensure_one()
        try:
            text = base64.b64decode(self.file or b"").decode("utf-8-sig")
        except (ValueError, UnicodeDecodeError) as error:
            raise UserError(self.env._("The file is not UTF-8 text: %s", error)) from error
        lines = text.splitlines()
        if not any(line.strip() for line in lines):
            raise UserError(self.env._("The file is empty."))
        try:
            dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), dialect)
        columns, rows, errors = COLUMNS, [], []
        for number, cells in enumerate(reader, start=1):
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if number == 1 and cells[0].lower() == "serial":
                columns = self._header_columns(cells)
                continue
            if len(cells) < REQUIRED or len(cells) > len(columns):
                errors.append(
                    (
                        {"line": number},
                        self.env._(
                            "expected %(low)s to %(high)s columns (%(names)s), got %(count)s",
                            low=REQUIRED,
                            high=len(columns),
                            names=", ".join(columns),
                            count=len(cells),
                        ),
                    )
                )
                continue
            row = row_from_cells(dict(zip(columns, cells)), source=SOURCE_IMPORT)
            row["line"] = number
            rows.append(row)
        return rows, errors

    def _header_columns(self, cells):
        names = tuple(cell.lower() for cell in cells)
        unknown = [name for name in names if name not in COLUMNS]
        if unknown or names[:REQUIRED] != COLUMNS[:REQUIRED]:
            raise UserError(
                self.env._(
                    "Line 1: the header must start with serial, timestamp, total and may add "
                    "sharp, peak, flat, valley; got %s",
                    ", ".join(cells),
                )
            )
        return names

    @staticmethod
    def _format_errors(errors):
        return "\n".join(f"line {row['line']}: {reason}" for row, reason in errors)

    @staticmethod
    def _sorted_errors(errors):
        return sorted(errors, key=lambda error: error[0]["line"])

    def action_preview(self):
        """Check every row without writing anything and show what the import would do."""
        self.ensure_one()
        rows, errors = self._read_rows()
        outcomes = self.env["prepaid.reading"]._check_rows(rows, strict=True)
        errors = self._sorted_errors(
            errors + [(row, reason) for row, kind, reason in outcomes if kind == "rejected"]
        )
        kinds = [kind for _row, kind, _result in outcomes]
        summary = [
            self.env._(
                "%(rows)s rows: %(new)s new readings, %(dup)s already stored, %(bad)s bad.",
                rows=len(rows) + len(errors) - kinds.count("rejected"),
                new=kinds.count("new"),
                dup=kinds.count("duplicate"),
                bad=len(errors),
            )
        ]
        if errors:
            summary.append(self.env._("Nothing will be imported until every row is right:"))
            summary.append(self._format_errors(errors[:PREVIEW_LIMIT]))
            if len(errors) > PREVIEW_LIMIT:
                summary.append(self.env._("... and %s more.", len(errors) - PREVIEW_LIMIT))
        self.write(
            {
                "state": "preview",
                "row_count": len(rows) + len(errors) - kinds.count("rejected"),
                "new_count": kinds.count("new"),
                "duplicate_count": kinds.count("duplicate"),
                "error_count": len(errors),
                "summary": "\n".join(summary),
            }
        )
        return self._reopen()

    def action_import(self):
        """Import every row or none: any bad row aborts with the list of all bad rows."""
        self.ensure_one()
        rows, errors = self._read_rows()
        Reading = self.env["prepaid.reading"]
        if errors:  # unreadable lines: check the others only, to list every bad row at once
            outcomes = Reading._check_rows(rows, strict=True)
            rejected = [(row, reason) for row, kind, reason in outcomes if kind == "rejected"]
            result = {"created": Reading, "duplicates": [], "rejected": rejected}
        else:
            result = Reading._ingest(rows, strict=True, all_or_nothing=True)
        errors = self._sorted_errors(errors + result["rejected"])
        if errors:
            raise UserError(
                self.env._(
                    "Nothing was imported: %(count)s bad rows.\n%(errors)s",
                    count=len(errors),
                    errors=self._format_errors(errors),
                )
            )
        self.write(
            {
                "state": "done",
                "row_count": len(rows),
                "new_count": len(result["created"]),
                "duplicate_count": len(result["duplicates"]),
                "error_count": 0,
                "summary": self.env._(
                    "%(new)s readings imported, %(dup)s were already stored.",
                    new=len(result["created"]),
                    dup=len(result["duplicates"]),
                ),
            }
        )
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
