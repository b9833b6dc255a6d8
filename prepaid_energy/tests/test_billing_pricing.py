import datetime
from decimal import Decimal

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_property_common import PropertyCase, utc


@tagged("post_install", "-at_install")
class TestBillingPricing(PropertyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tariff = cls._create_tou_tier_tariff()
        cls.site.default_tariff_id = cls.tariff
        cls.meter = cls._create_meter("BILL-0001")

    def _read(self, meter, when, total, **bands):
        result = self._ingest({"meter_id": meter.id, "timestamp": when, "total": total, **bands})
        self.assertFalse(result["rejected"])
        return result["created"]

    def _open(self, meter, when, total, **bands):
        start = self._read(meter, when, total, **bands)
        return self._open_account(meter, [start])

    def _price(self):
        self.env["prepaid.meter"]._cron_price_readings()

    def _consumption_lines(self, account):
        return account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")

    def test_cron_prices_readings_into_charges_and_one_ledger_line(self):
        # Site time is UTC+8. Wednesday 15 January 2025, local 06:00 / 10:00 / 22:00.
        account = self._open(self.meter, utc(2025, 1, 14, 22), "1000")
        r1 = self._read(self.meter, utc(2025, 1, 15, 2), "1040")
        r2 = self._read(self.meter, utc(2025, 1, 15, 14), "1160")
        # through the scheduled action itself, as the cron worker runs it
        self.env.ref("prepaid_energy.ir_cron_prepaid_price_readings").method_direct_trigger()
        # Hand computation (see test_tariff_records): valley 20 x 0.40 = 8.00,
        # peak tier 1 80 x 1.00 = 80.00, peak tier 2 60 x 1.10 = 66.00: 154.00 for 160 kWh.
        charges = self.meter.charge_ids.sorted(lambda c: (c.date_start, c.tier))
        self.assertEqual(
            [(c.band, c.tier, c.quantity, c.unit_price, c.amount) for c in charges],
            [
                ("valley", 1, 20.0, 0.40, 8.00),
                ("peak", 1, 80.0, 1.00, 80.00),
                ("peak", 2, 60.0, 1.10, 66.00),
            ],
        )
        valley = charges[0]
        # local 06:00-08:00 is 22:00-00:00 UTC
        self.assertEqual(
            (valley.date_start, valley.date_end), (utc(2025, 1, 14, 22), utc(2025, 1, 15, 0))
        )
        self.assertEqual(valley.reading_id, r1)
        self.assertEqual(charges[1:].reading_id, r2)
        self.assertEqual(charges.tariff_version_id, self.tariff.version_ids)
        self.assertEqual(charges.product_id, self.env.ref("prepaid_energy.product_electricity"))
        self.assertEqual(charges.account_id, account)
        ledger = self._consumption_lines(account)
        self.assertEqual(len(ledger), 1)
        self.assertAlmostEqual(ledger.amount, -154.00)
        self.assertEqual(charges.ledger_line_id, ledger)
        self.assertAlmostEqual(account.balance, -154.00)
        self.assertEqual((r1 | r2).mapped("state"), ["priced", "priced"])
        self.assertEqual(self.meter.priced_reading_id, r2)
        self.assertEqual(Decimal(self.meter.pricing_state["cycle_quantity"]), 160)
        # nothing new: a second run books nothing
        self._price()
        self.assertEqual(len(self._consumption_lines(account)), 1)

    def test_pricing_in_two_runs_carries_the_tier_position(self):
        account = self._open(self.meter, utc(2025, 1, 14, 22), "1000")
        self._read(self.meter, utc(2025, 1, 15, 2), "1040")
        self._price()
        self._read(self.meter, utc(2025, 1, 15, 14), "1160")
        self._price()
        # run 1: valley 8.00 + peak 20 x 1.00 = 28.00; run 2: peak 60 x 1.00 + 60 x 1.10 = 126.00
        amounts = sorted(self._consumption_lines(account).mapped("amount"))
        self.assertEqual([round(a, 2) for a in amounts], [-126.00, -28.00])
        tier2 = self.meter.charge_ids.filtered(lambda c: c.tier == 2)
        self.assertEqual((tier2.quantity, tier2.amount), (60.0, 66.00))

    def test_band_registers_multiplier_and_rollover(self):
        flat = self.env["prepaid.tariff"].create(
            {
                "name": "Flat 0.50",
                "version_ids": [
                    Command.create({"date_from": "2025-01-01", "kind": "flat", "price": 0.5})
                ],
            }
        )
        ct_meter = self._create_meter(
            "BILL-CT", multiplier=10, register_limit=10000, tariff_id=flat.id
        )
        account = self._open(ct_meter, utc(2025, 1, 15, 0), "9999.5")
        # the register wraps: 9999.5 -> 10000 -> 1 is 1.5 register units, x 10 = 15 kWh
        rolled = self._read(ct_meter, utc(2025, 1, 15, 0, 15), "1")
        self._price()
        self.assertEqual(rolled.flags, "rollover")
        self.assertEqual(sum(ct_meter.charge_ids.mapped("quantity")), 15.0)
        self.assertAlmostEqual(account.balance, -7.50)  # 15 x 0.50

        # band registers: their deltas are priced band by band, whatever the time
        band_meter = self._create_meter("BILL-BANDS")
        band_account = self._open(
            band_meter, utc(2025, 1, 15, 0), "15", sharp="0", peak="10", flat="0", valley="5"
        )
        self._read(
            band_meter, utc(2025, 1, 15, 0, 15), "27", sharp="0", peak="20", flat="0", valley="7"
        )
        self._price()
        # peak 10 kWh x 1.00 + valley 2 kWh x 0.40 = 10.80 (the interval is all valley by time)
        by_band = {c.band: c.quantity for c in band_meter.charge_ids}
        self.assertEqual(by_band, {"peak": 10.0, "valley": 2.0})
        self.assertAlmostEqual(band_account.balance, -10.80)

    def test_unopened_meters_and_held_readings_are_not_billed(self):
        idle = self._create_meter("BILL-IDLE")
        first = self._read(idle, utc(2025, 1, 15, 0), "10")
        second = self._read(idle, utc(2025, 1, 15, 1), "20")
        self.assertEqual((first | second).mapped("state"), ["unbilled", "unbilled"])
        account = self._open(self.meter, utc(2025, 1, 15, 0), "100")
        held = self._ingest(
            {"meter_id": self.meter.id, "timestamp": utc(2025, 1, 15, 0, 15), "total": "90"}
        )["created"]
        self._price()
        self.assertEqual(held.state, "rejected")
        self.assertFalse(idle.charge_ids | self.meter.charge_ids)
        self.assertFalse(self._consumption_lines(account))
        # consumption read before the account opened is not the new tenant's
        account_idle = self._open_account(idle, [None])
        self._read(idle, utc(2025, 1, 15, 2), "21")
        self._price()
        self.assertEqual(sum(idle.charge_ids.mapped("quantity")), 1.0)
        # 01:00-02:00 UTC is 09:00-10:00 local on a Wednesday: peak, 1 kWh x 1.00
        self.assertAlmostEqual(account_idle.balance, -1.00)

    def test_missing_tariff_is_reported_not_fatal(self):
        self.site.default_tariff_id = False
        lonely = self._create_meter("BILL-NOTARIFF")
        self._open(lonely, utc(2025, 1, 15, 0), "0")
        self._open(self.meter, utc(2025, 1, 15, 0), "0")
        self.meter.tariff_id = self.tariff
        pending = self._read(lonely, utc(2025, 1, 15, 0, 15), "1")
        self._read(self.meter, utc(2025, 1, 15, 0, 15), "1")
        self._price()
        self.assertIn("no tariff", lonely.pricing_error)
        self.assertEqual(pending.state, "new")
        self.assertTrue(self.meter.charge_ids, "the other meters are billed all the same")
        self.assertFalse(self.meter.pricing_error)

    def test_close_meter_bills_up_to_the_final_reading(self):
        an_hour_ago = fields.Datetime.now() - datetime.timedelta(hours=1)
        account = self._open(self.meter, an_hour_ago, "100")
        self.meter._close_meter(104)
        # the final reading is taken now: its 4 kWh are billed before the meter leaves
        self.assertEqual(sum(self.meter.charge_ids.mapped("quantity")), 4.0)
        self.assertEqual(self.meter.charge_ids.account_id, account)
        self.assertFalse(self.meter.account_id)
        self.assertEqual(self.meter.state, "not_opened")
        with self.assertRaisesRegex(UserError, "went back|already holds a different reading"):
            self._open_account(self.meter, [90])
