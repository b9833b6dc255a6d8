"""The bulk writes of a reading cycle do what the ORM's create and write do."""

import datetime

import pytz
from odoo import Command, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..tools import bulk
from .test_property_common import PropertyCase, utc


@tagged("post_install", "-at_install")
class TestBulkWrites(PropertyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tariff = cls._create_tou_tier_tariff()
        cls.meter = cls._create_meter("BULK-0001", tariff_id=cls.tariff.id)
        cls.account = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.unit.id}
        )
        cls.account.write({"state": "open"})
        cls.reading = cls._ingest_one(cls.meter, utc(2025, 1, 15, 0), "10")
        cls.product = cls.env.ref("prepaid_energy.product_electricity")

    @classmethod
    def _ingest_one(cls, meter, when, total):
        result = cls.env["prepaid.reading"]._ingest(
            [{"meter_id": meter.id, "timestamp": when, "total": total}]
        )
        return result["created"]

    def _rows(self, records):
        """Every stored column of ``records`` as the database holds it, but the id."""
        records.env.flush_all()
        self.env.cr.execute(
            f"SELECT * FROM {records._table} WHERE id IN %s ORDER BY id", [tuple(records.ids)]
        )
        names = [column.name for column in self.env.cr.description]
        return [{n: v for n, v in zip(names, row) if n != "id"} for row in self.env.cr.fetchall()]

    def _assert_same_as_create(self, model, vals):
        """Bulk-create and ORM-create ``vals``: every stored column must be equal."""
        Model = self.env[model]
        by_orm = models.BaseModel.create(Model, [dict(vals)])  # the ORM's own create
        by_bulk = Model._bulk_create([dict(vals)])
        orm_row, bulk_row = self._rows(by_orm + by_bulk)
        self.assertEqual(bulk_row, orm_row)
        return orm_row

    def test_bulk_rows_are_the_rows_create_writes(self):
        # a reading with more decimals than its registers keep (numeric columns do not round)
        reading = self._assert_same_as_create(
            "prepaid.reading",
            {
                "meter_id": self.meter.id,
                "account_id": self.account.id,
                "timestamp": datetime.datetime(2025, 1, 15, 1, 2, 3),
                "total": 100.123456,
                "sharp": 1.00005,
                "peak": 2.5,
                "flat": 0,
                "valley": 96.62,
                "has_bands": True,
                "raw_delta": 1.23456789,
                "delta": 12.3456789,
                "flags": "gap",
                "source": "import",
                "state": "new",
            },
        )
        self.assertEqual(str(reading["delta"]), "12.3457")
        self.assertEqual(str(reading["sharp"]), "1.0001")
        self.assertEqual(reading["company_id"], self.meter.company_id.id)  # related, stored
        self.assertEqual(reading["site_id"], self.site.id)
        # a ledger line: amounts to the currency, defaults (operator), date_start computed
        line = self._assert_same_as_create(
            "prepaid.ledger.line",
            {
                "account_id": self.account.id,
                "kind": "consumption",
                "amount": -2.675,
                "balance_after": 10.005,
                "date": datetime.datetime(2025, 1, 15, 2),
                "description": "BULK-0001: 2.675 kWh",
                "meter_id": self.meter.id,
            },
        )
        self.assertEqual((str(line["amount"]), str(line["balance_after"])), ("-2.68", "10.01"))
        self.assertEqual(line["date_start"], datetime.datetime(2025, 1, 15, 2))
        self.assertEqual(line["user_id"], self.env.uid)
        self.assertEqual(line["partner_id"], self.tenant.id)
        # a charge: its quantity and unit price keep their own digits
        charge = self._assert_same_as_create(
            "prepaid.charge",
            {
                "meter_id": self.meter.id,
                "account_id": self.account.id,
                "reading_id": self.reading.id,
                "date_start": datetime.datetime(2025, 1, 15, 0),
                "date_end": datetime.datetime(2025, 1, 15, 1),
                "band": "peak",
                "tier": 2,
                "quantity": 1.23456789,
                "unit_price": 0.6125,
                "amount": 0.755,
                "product_id": self.product.id,
                "tariff_version_id": self.tariff.version_ids.id,
            },
        )
        self.assertEqual(
            (str(charge["quantity"]), str(charge["unit_price"]), str(charge["amount"])),
            ("1.234568", "0.6125", "0.76"),
        )
        self.assertEqual(charge["company_id"], self.env.company.id)  # the default
        self.assertEqual(charge["tariff_id"], self.tariff.id)
        self.assertEqual(charge["utility"], "electricity")

    def test_what_create_refuses_bulk_refuses(self):
        Reading = self.env["prepaid.reading"]
        base = {"meter_id": self.meter.id, "total": 1, "source": "import", "state": "new"}
        aware = pytz.timezone("Asia/Shanghai").localize(datetime.datetime(2025, 1, 15, 8))
        with self.assertRaisesRegex(ValueError, "expects a naive datetime"):
            Reading._bulk_create([{**base, "timestamp": aware}])
        with self.assertRaisesRegex(ValueError, "Wrong value for prepaid.reading.state"):
            Reading._bulk_create([{**base, "timestamp": utc(2025, 1, 15), "state": "lost"}])
        with self.assertRaisesRegex(ValueError, "not a plain stored field"):
            Reading._bulk_create([{**base, "timestamp": utc(2025, 1, 15), "utility": "water"}])

    def test_modified_recomputes_what_depends_on_new_rows(self):
        # balance is the sum of the ledger: new lines must make it recompute
        self.env["prepaid.ledger.line"]._bulk_create(
            [
                {"account_id": self.account.id, "kind": "recharge", "amount": amount}
                for amount in (10, 2.5)
            ]
        )
        self.assertEqual(self.account.balance, 12.5)
        self.assertEqual(len(self.account.ledger_line_ids), 2)

    def test_write_rounds_checks_constraints_and_companies(self):
        bulk.write(self.meter, ["last_total"], [(self.meter.id, 12.345678)])
        self.meter.invalidate_recordset()
        self.assertEqual(self.meter.last_total, 12.3457)
        # Python constraints: the site's alarm amounts must be in order
        with self.assertRaisesRegex(ValidationError, "alarm"):
            bulk.write(self.site, ["alarm1_amount", "alarm2_amount"], [(self.site.id, 5, 50)])
        # company checks: a meter cannot bill a wallet of another company
        other = self.env["res.company"].create({"name": "Other Co"})
        stranger = (
            self.env["prepaid.account"]
            .with_company(other)
            .create({"partner_id": self.tenant.id, "company_id": other.id})
        )
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.meter._bulk_write(["account_id"], [(self.meter.id, stranger.id)])

    def test_access_rights_and_record_rules_apply(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        officer_elsewhere = new_test_user(
            self.env,
            login="bulk_officer_other",
            groups="prepaid_energy.group_prepaid_officer",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        vals = {
            "meter_id": self.meter.id,  # a meter of the first company
            "timestamp": utc(2025, 1, 16),
            "total": 11,
            "source": "import",
            "state": "new",
        }
        with self.assertRaises(AccessError):  # the reading rule: its company only
            self.env["prepaid.reading"].with_user(officer_elsewhere)._bulk_create([vals])
        cashier = new_test_user(
            self.env, login="bulk_cashier", groups="prepaid_energy.group_prepaid_cashier"
        )
        with self.assertRaises(AccessError):  # no create right on readings at all
            self.env["prepaid.reading"].with_user(cashier)._bulk_create([vals])
        with self.assertRaises(AccessError):  # nor write on meters
            self.meter.with_user(cashier)._bulk_write(["last_total"], [(self.meter.id, 3)])
