"""Shared set-up of the property side's tests: a site tree, a tenant, tariffs, meters."""

import contextlib
import datetime

from odoo import Command
from odoo.tests import TransactionCase


def utc(*args):
    """A naive UTC datetime, as Odoo stores them."""
    return datetime.datetime(*args)


def create_tou_tier_tariff(env, **values):
    """Workday: peak 08-22 at 1.00, valley 22-08 at 0.40; weekend: flat 0.70 all day.

    Tiers per monthly cycle: 0-100 kWh no surcharge, above 100 kWh +0.10.
    Shared by the property and the money tests.
    """
    return env["prepaid.tariff"].create(
        {
            "name": "Residential TOU",
            "code": "RES-TOU",
            "cycle_period": "monthly",
            "cycle_start_day": 1,
            "version_ids": [
                Command.create(
                    {
                        "date_from": "2025-01-01",
                        "kind": "tou",
                        "period_ids": [
                            Command.create(
                                {
                                    "day_type": "workday",
                                    "hour_from": 8,
                                    "hour_to": 22,
                                    "band": "peak",
                                }
                            ),
                            Command.create(
                                {
                                    "day_type": "workday",
                                    "hour_from": 22,
                                    "hour_to": 8,
                                    "band": "valley",
                                }
                            ),
                            Command.create(
                                {
                                    "day_type": "weekend",
                                    "hour_from": 0,
                                    "hour_to": 24,
                                    "band": "flat",
                                }
                            ),
                        ],
                        "price_ids": [
                            Command.create({"band": "peak", "price": 1.00}),
                            Command.create({"band": "valley", "price": 0.40}),
                            Command.create({"band": "flat", "price": 0.70}),
                        ],
                        "tier_ids": [
                            Command.create({"qty_from": 0, "qty_to": 100, "surcharge": 0}),
                            Command.create({"qty_from": 100, "surcharge": 0.10}),
                        ],
                    }
                )
            ],
            **values,
        }
    )


class PropertyCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        Location = cls.env["prepaid.location"]
        # Shanghai: UTC+8 all year (no daylight saving), so local = UTC + 8 h.
        cls.site = Location.create(
            {
                "name": "Harbour Park",
                "location_type": "site",
                "tz": "Asia/Shanghai",
                "reading_interval": 15,
            }
        )
        cls.building = Location.create(
            {"name": "Block A", "location_type": "building", "parent_id": cls.site.id}
        )
        cls.floor = Location.create(
            {"name": "Floor 1", "location_type": "floor", "parent_id": cls.building.id}
        )
        cls.unit = Location.create(
            {"name": "101", "location_type": "unit", "parent_id": cls.floor.id, "area": 85.5}
        )
        cls.tenant = cls.env["res.partner"].create({"name": "Lotus Trading Ltd"})

    @classmethod
    def _create_meter(cls, serial, **values):
        return cls.env["prepaid.meter"].create({"serial": serial, "unit_id": cls.unit.id, **values})

    @classmethod
    def _create_tou_tier_tariff(cls, **values):
        return create_tou_tier_tariff(cls.env, **values)

    @classmethod
    def _open_account(cls, meters, start_readings):
        """An open wallet for the tenant, billing ``meters`` from ``start_readings``."""
        account = cls.env["prepaid.account"].create(
            {"partner_id": cls.tenant.id, "unit_id": cls.unit.id}
        )
        account.write({"state": "open", "date_open": utc(2025, 1, 1)})
        for meter, start in zip(meters, start_readings):
            meter._open_on_account(account, start)
        return account

    @contextlib.contextmanager
    def assertRaisesRegex(self, exception, regex):
        """Like unittest's, inside a savepoint (as Odoo's assertRaises): what the failed
        call wrote is rolled back, as it would be in a real request."""
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertRegex(str(caught.exception), regex)

    def _ingest(self, *rows, **options):
        return self.env["prepaid.reading"]._ingest(list(rows), **options)
