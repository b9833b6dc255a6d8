import base64
import csv
import os

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_property_common import PropertyCase, utc

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "data", "import")


@tagged("post_install", "-at_install")
class TestReadingImport(PropertyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter_a = cls._create_meter("CSV-A")
        cls.meter_b = cls._create_meter("CSV-B")

    def _wizard(self, text):
        return self.env["prepaid.reading.import"].create(
            {"file": base64.b64encode(text.encode()), "filename": "readings.csv"}
        )

    def _import_error(self, wizard):
        """The import's error message; caught without a savepoint, so that what the
        import wrote (it must be nothing) stays visible to the test."""
        try:
            wizard.action_import()
        except UserError as error:
            return str(error)
        self.fail("the import should have failed")

    def _count(self):
        return self.env["prepaid.reading"].search_count(
            [("meter_id", "in", (self.meter_a | self.meter_b).ids)]
        )

    GOOD = (
        "serial,timestamp,total,sharp,peak,flat,valley\n"
        "CSV-A,2025-01-15 00:00:00,100.00,1,2,3,4\n"
        "CSV-A,2025-01-15 00:15:00,101.50,1,2.5,3.5,4.5\n"
        "CSV-B,2025-01-15 00:00:00,7\n"
    )

    def test_good_file_imports_whole(self):
        wizard = self._wizard(self.GOOD)
        wizard.action_preview()
        self.assertEqual((wizard.row_count, wizard.new_count, wizard.error_count), (3, 3, 0))
        self.assertEqual(self._count(), 0, "the preview writes nothing")
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(self._count(), 3)
        second = self.meter_a.last_reading_id
        self.assertEqual((second.total, second.peak, second.source), (101.5, 2.5, "import"))
        self.assertTrue(second.has_bands)
        # importing the same file again is harmless: every row is a duplicate
        again = self._wizard(self.GOOD)
        again.action_import()
        self.assertEqual((again.new_count, again.duplicate_count), (0, 3))
        self.assertEqual(self._count(), 3)

    def test_any_bad_row_aborts_and_lists_every_bad_row(self):
        text = (
            "serial,timestamp,total\n"  # line 1
            "CSV-A,2025-01-15 00:00:00,100\n"  # line 2: good
            "CSV-X,2025-01-15 00:00:00,100\n"  # line 3: unknown meter
            "CSV-B,2025-01-15 00:00:00,7\n"  # line 4: good
            "CSV-B,2025-01-15 00:15:00,abc\n"  # line 5: not a number
            "CSV-A,2025-01-15 00:15:00\n"  # line 6: too few columns
            "CSV-A,2025-01-15 00:30:00,90\n"  # line 7: goes back from 100
        )
        wizard = self._wizard(text)
        wizard.action_preview()
        self.assertEqual(wizard.error_count, 4)
        self.assertEqual(wizard.new_count, 2)
        message = self._import_error(wizard)
        self.assertIn("Nothing was imported: 4 bad rows", message)
        lines = message.splitlines()[1:]
        self.assertEqual(
            [line.split(":")[0] for line in lines], ["line 3", "line 5", "line 6", "line 7"]
        )
        self.assertIn("unknown meter serial CSV-X", lines[0])
        self.assertIn("not a number", lines[1])
        self.assertIn("columns", lines[2])
        self.assertIn("went back", lines[3])
        self.assertEqual(self._count(), 0)

    def test_bad_row_found_by_ingestion_alone_still_writes_nothing(self):
        # every line readable: the all-or-nothing of _ingest itself must hold
        text = "CSV-A,2025-01-15 00:00:00,100\nCSV-A,2025-01-15 00:00:00,101\n"
        message = self._import_error(self._wizard(text))
        self.assertRegex(message, "line 2: slot .* twice with different values")
        self.assertEqual(self._count(), 0)

    def test_header_is_checked(self):
        with self.assertRaisesRegex(UserError, "header must start with serial, timestamp, total"):
            self._wizard("serial,total,timestamp\nCSV-A,1,2025-01-15 00:00:00\n").action_import()


@tagged("post_install", "-at_install")
class TestSampleReadings(PropertyCase):
    def _load(self, model, filename):
        """Load a sample the way the import dialog does (base_import ends in load())."""
        with open(os.path.join(SAMPLES, filename), newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        result = self.env[model].load(header, rows)
        self.assertFalse([m for m in result["messages"] if m["type"] == "error"], result)
        return self.env[model].browse(result["ids"])

    def test_the_sample_readings_import_as_they_are_through_the_wizard(self):
        self._load("prepaid.location", "locations.csv")
        self._load("res.partner", "tenants.csv")
        meters = self._load("prepaid.meter", "meters.csv")
        with open(os.path.join(SAMPLES, "readings.csv"), "rb") as handle:
            content = handle.read()
        wizard = self.env["prepaid.reading.import"].create(
            {"file": base64.b64encode(content), "filename": "readings.csv"}
        )
        wizard.action_preview()
        self.assertEqual((wizard.new_count, wizard.error_count), (24, 0), wizard.summary)
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        readings = self.env["prepaid.reading"].search([("meter_id", "in", meters.ids)])
        self.assertEqual(len(readings), 24)
        self.assertEqual(set(readings.mapped("state")), {"unbilled"})  # no account yet
        banded = readings.filtered("has_bands").meter_id
        self.assertEqual(set(banded.mapped("serial")), {"000000101001", "000000201001"})
        # 08:00 in Shanghai (+08:00 in the file) is midnight UTC
        a101 = self.env.ref("__import__.meter_a101_e")
        self.assertEqual(min(a101.reading_ids.mapped("timestamp")), utc(2025, 2, 3, 0, 0))
        self.assertEqual(a101.last_total, 1521.65)
        self.assertAlmostEqual(sum(a101.reading_ids.mapped("delta")), 1.25)
        # the CT meter's consumption is its register advance times 20
        ct = self.env.ref("__import__.meter_g01_e")
        self.assertAlmostEqual(sum(ct.reading_ids.mapped("delta")), 0.78 * 20)
