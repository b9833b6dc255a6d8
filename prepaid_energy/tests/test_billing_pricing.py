import datetime
from decimal import Decimal

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

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


@tagged("post_install", "-at_install")
class TestBillingCutsAndLinks(PropertyCase):
    """Charges cover what they priced; consumption is booked per invoicing period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tariff = cls._create_tou_tier_tariff()
        cls.site.default_tariff_id = cls.tariff
        cls.meter = cls._create_meter("CUT-0001")
        cls.officer = new_test_user(
            cls.env, login="cut_officer", groups="prepaid_energy.group_prepaid_officer"
        )
        cls.cashier = new_test_user(
            cls.env, login="cut_cashier", groups="prepaid_energy.group_prepaid_cashier"
        )

    def _read(self, when, total, **bands):
        result = self._ingest(
            {"meter_id": self.meter.id, "timestamp": when, "total": total, **bands}
        )
        self.assertFalse(result["rejected"])
        return result["created"]

    def _consumption(self, account):
        return account.ledger_line_ids.filtered(lambda line: line.kind == "consumption")

    def test_band_charges_cover_their_own_slot_and_link_to_its_reading(self):
        # Wednesday 15 Jan 2025, local = UTC + 8. Half-hour band readings: peak moves
        # 16:30-17:00 local only, then only the valley register moves until 01:30.
        start = self._read(utc(2025, 1, 15, 8, 30), "0", sharp="0", peak="0", flat="0", valley="0")
        account = self._open_account(self.meter, [start])
        peak_reading = self._read(
            utc(2025, 1, 15, 9), "1", sharp="0", peak="1", flat="0", valley="0"
        )
        readings = peak_reading
        valley = 0
        moment = utc(2025, 1, 15, 9)
        while moment < utc(2025, 1, 15, 17, 30):
            moment += datetime.timedelta(minutes=30)
            valley += 1
            readings |= self._read(
                moment, str(1 + valley), sharp="0", peak="1", flat="0", valley=str(valley)
            )
        self.env["prepaid.meter"]._cron_price_readings()
        charges = self.meter.charge_ids
        peak = charges.filtered(lambda charge: charge.band == "peak")
        self.assertEqual(
            (peak.date_start, peak.date_end, peak.reading_id),
            (utc(2025, 1, 15, 8, 30), utc(2025, 1, 15, 9), peak_reading),
        )
        for charge in charges:
            reading = charge.reading_id
            before = max(r.timestamp for r in (start | readings) if r.timestamp < reading.timestamp)
            # the charge lies in the readings it priced and ends in its reading's interval
            self.assertLessEqual(charge.date_end, reading.timestamp)
            self.assertGreater(charge.date_end, before)
        self.assertEqual(sum(charges.mapped("quantity")), 1 + valley)
        self.assertEqual(len(self._consumption(account)), 1)

    def test_a_run_over_a_period_end_books_one_line_per_period(self):
        # monthly invoicing, Shanghai: the period ends at 1 Feb 00:00 local = 31 Jan 16:00 UTC
        start = self._read(utc(2025, 1, 31, 14), "100")
        account = self._open_account(self.meter, [start])
        end = self._read(utc(2025, 1, 31, 18), "108")  # 2 kWh an hour
        self.env["prepaid.meter"]._cron_price_readings()
        january, february = self._consumption(account).sorted("date_start")
        boundary = utc(2025, 1, 31, 16)
        self.assertEqual((january.date_start, january.date), (utc(2025, 1, 31, 14), boundary))
        self.assertEqual((february.date_start, february.date), (boundary, utc(2025, 1, 31, 18)))
        # 31 Jan 22:00-24:00 local is a Friday's valley: 4 kWh x 0.40; 1 Feb is a Saturday:
        # flat all day, 4 kWh x 0.70
        self.assertAlmostEqual(january.amount, -1.60)
        self.assertAlmostEqual(february.amount, -2.80)
        for charge in self.meter.charge_ids:
            self.assertFalse(charge.date_start < boundary < charge.date_end, "no charge crosses")
            self.assertEqual(charge.reading_id, end)
        self.assertEqual(january.charge_ids.mapped("band"), ["valley"])
        self.assertEqual(february.charge_ids.mapped("band"), ["flat"])
        # the labels: plain quantities, site-local times, the meter
        self.assertEqual(
            january.description, "CUT-0001: 4 kWh from 2025-01-31 22:00 to 2025-02-01 00:00"
        )
        self.assertEqual(
            february.description, "CUT-0001: 4 kWh from 2025-02-01 00:00 to 2025-02-01 02:00"
        )
        self.assertEqual((january | february).meter_id, self.meter)
        # lines that are not consumption start when they are dated
        opening = self.env["prepaid.account"]._post_ledger_lines(
            [{"account_id": account.id, "kind": "recharge", "amount": 50}]
        )
        self.assertEqual(opening.date_start, opening.date)

    def test_quantities_read_plainly(self):
        # 50 kWh used to read "5E+1 kWh"
        start = self._read(utc(2025, 1, 15, 0), "100")
        account = self._open_account(self.meter, [start])
        self._read(utc(2025, 1, 15, 10), "150")
        self.env["prepaid.meter"]._cron_price_readings()
        self.assertRegex(self._consumption(account).description, r"^CUT-0001: 50 kWh from ")

    def test_officers_price_now_from_the_form_and_the_lists(self):
        start = self._read(utc(2025, 1, 15, 0), "100")
        account = self._open_account(self.meter, [start])
        first = self._read(utc(2025, 1, 15, 2), "101")
        # the button of the meter form
        meter = self.meter.with_user(self.officer)
        action = meter.action_price_now()
        self.assertEqual(first.state, "priced")
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("1 readings priced on 1 meters", action["params"]["message"])
        self.assertAlmostEqual(account.balance, -1.00)  # 09:00-10:00 local, peak
        # the server action on the meter list
        second = self._read(utc(2025, 1, 15, 3), "102")
        server_action = self.env.ref("prepaid_energy.action_prepaid_meter_price_now")
        server_action.with_user(self.officer).with_context(
            active_model="prepaid.meter", active_ids=self.meter.ids
        ).run()
        self.assertEqual(second.state, "priced")
        # and on the reading list
        third = self._read(utc(2025, 1, 15, 4), "103")
        reading_action = self.env.ref("prepaid_energy.action_prepaid_reading_price_now")
        reading_action.with_user(self.officer).with_context(
            active_model="prepaid.reading", active_ids=third.ids
        ).run()
        self.assertEqual(third.state, "priced")
        self.assertAlmostEqual(account.balance, -3.00)
        # nothing left: said so
        again = meter.action_price_now()
        self.assertIn("Nothing to price", again["params"]["message"])
        # cashiers may not (the action is for officers, and the check is real)
        with self.assertRaises(AccessError):
            self.meter.with_user(self.cashier).action_price_now()
        self.assertNotIn(
            self.cashier, reading_action.groups_id.users, "the list action is hidden too"
        )

    def test_closing_a_meter_checks_the_user_behind_sudo(self):
        start = self._read(utc(2025, 1, 15, 0), "100")
        self._open_account(self.meter, [start])
        with self.assertRaises(AccessError):
            self.meter.with_user(self.cashier).sudo()._close_meter()


@tagged("post_install", "-at_install")
class TestIngestAndPrice(PropertyCase):
    """A meter reading cycle prices as it stores: the same result as ingest, then cron."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.site.default_tariff_id = cls._create_tou_tier_tariff()
        cls.officer = new_test_user(
            cls.env, login="iap_officer", groups="prepaid_energy.group_prepaid_officer"
        )

    def _series(self, meter, start_hour, totals, **bands):
        return [
            {
                "meter_id": meter.id,
                "timestamp": utc(2025, 1, 15, start_hour + hour),
                "total": total,
                **{band: values[hour] for band, values in bands.items()},
            }
            for hour, total in enumerate(totals)
        ]

    def _billing(self, meter):
        """What a meter was billed, without its own ids."""
        charges = [
            (c.band, c.tier, c.quantity, c.unit_price, c.amount, c.date_start, c.date_end)
            + (c.reading_id.timestamp, c.ledger_line_id.amount)
            for c in meter.charge_ids.sorted(lambda c: (c.date_start, c.band or "", c.tier))
        ]
        lines = meter.account_id.ledger_line_ids.filtered(lambda line: line.kind == "consumption")
        ledger = sorted(
            (line.amount, line.date_start, line.date, line.description.split(":")[1])
            for line in lines
        )
        readings = meter.reading_ids.sorted("timestamp").mapped(lambda r: (r.timestamp, r.state))
        state = (meter.pricing_state, meter.priced_reading_id.timestamp, meter.last_total)
        return charges, ledger, readings, state, meter.account_id.balance

    def test_one_pass_bills_what_ingest_then_cron_bills(self):
        two_step, one_pass = (self._create_meter(serial) for serial in ("IAP-A", "IAP-B"))
        for meter in (two_step, one_pass):
            start = self._ingest(*self._series(meter, 0, ["100"]))["created"]
            self._open_account(meter, [start])
        # one reading already stored unpriced (an import), then a cycle of three
        for meter in (two_step, one_pass):
            self._ingest(*self._series(meter, 1, ["104"]))
        cycle = {"totals": ["110", "111.5", "130"]}
        # the cycle of one meter priced as it is stored (its stored reading with it)...
        Reading = self.env["prepaid.reading"].with_user(self.officer)
        result = Reading._ingest(self._series(one_pass, 2, **cycle), price=True)
        # ...the other's stored, then priced by the cron
        self._ingest(*self._series(two_step, 2, **cycle))
        self.env["prepaid.meter"]._cron_price_readings()
        self.assertEqual(set(result["created"].mapped("state")), {"priced"})
        self.assertEqual(self._billing(one_pass), self._billing(two_step))
        self.assertTrue(one_pass.charge_ids)
        self.assertEqual(one_pass.last_reading_id, result["created"].sorted("timestamp")[-1])
        # nothing is left for the cron: priced once
        self.env["prepaid.meter"]._cron_price_readings()
        self.assertEqual(self._billing(one_pass), self._billing(two_step))

    def test_meters_that_cannot_be_billed_keep_their_readings_new(self):
        lonely = self._create_meter("IAP-NOTARIFF", tariff_id=False)
        self.site.default_tariff_id = False
        start = self._ingest(*self._series(lonely, 0, ["5"]))["created"]
        self._open_account(lonely, [start])
        idle = self._create_meter("IAP-IDLE")
        rows = self._series(lonely, 1, ["6"]) + self._series(idle, 1, ["50"])
        created = self.env["prepaid.reading"]._ingest(rows, price=True)["created"]
        by_meter = {reading.meter_id: reading for reading in created}
        self.assertEqual(by_meter[lonely].state, "new")
        self.assertIn("no tariff", lonely.pricing_error)
        self.assertEqual(by_meter[idle].state, "unbilled")
        self.assertEqual((lonely.last_total, idle.last_total), (6.0, 50.0))
        cashier = new_test_user(
            self.env, login="iap_cashier", groups="prepaid_energy.group_prepaid_cashier"
        )
        with self.assertRaises(AccessError):
            self.env["prepaid.reading"].with_user(cashier)._ingest(
                self._series(lonely, 2, ["7"]), price=True
            )
