"""Tariffs as a manager enters them (the form), and kept within their company."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .test_property_common import PropertyCase

TARIFF_LINE_MODELS = (
    "prepaid.tariff.version",
    "prepaid.tariff.season",
    "prepaid.tariff.period",
    "prepaid.tariff.price",
    "prepaid.tariff.tier",
    "prepaid.holiday.calendar",
    "prepaid.holiday",
)


@tagged("post_install", "-at_install")
class TestTariffCompanyAndForm(PropertyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="pe_tariff_manager",
            groups="prepaid_energy.group_prepaid_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def test_a_version_is_added_while_the_tariff_is_new(self):
        # Issue 7, item 15: the version's form asked for its tariff ("Invalid fields:
        # Tariff") because the tariff had no id yet; the tariff is the version's parent.
        with Form(self.env(user=self.manager)["prepaid.tariff"]) as tariff_form:
            tariff_form.name = "Shanghai residential"
            tariff_form.code = "SH-RES"
            with tariff_form.version_ids.new() as version:
                version.date_from = "2025-01-01"
                version.kind = "flat"
                version.price = 0.6125
        tariff = tariff_form.record
        self.assertRecordValues(
            tariff.version_ids, [{"tariff_id": tariff.id, "kind": "flat", "price": 0.6125}]
        )
        # the price keeps its 4 decimals (Prepaid Tariff Price), not the 2 of Product Price
        self.assertEqual(tariff.version_ids.price, 0.6125)

    def _tariff_with_every_line(self, company):
        calendar = self.env["prepaid.holiday.calendar"].create(
            {
                "name": f"Holidays {company.name}",
                "company_id": company.id,
                "holiday_ids": [Command.create({"name": "New Year", "date": "2025-01-01"})],
            }
        )
        tariff = self._create_tou_tier_tariff(
            company_id=company.id, holiday_calendar_id=calendar.id
        )
        self.env["prepaid.tariff.version"].create(
            {
                "tariff_id": tariff.id,
                "date_from": "2026-01-01",
                "kind": "tou",
                "season_ids": [
                    Command.create(
                        {
                            "name": "All year",
                            "start_month": "1",
                            "start_day": 1,
                            "end_month": "12",
                            "end_day": 31,
                            "period_ids": [
                                Command.create({"hour_from": 0, "hour_to": 24, "band": "flat"})
                            ],
                            "price_ids": [Command.create({"band": "flat", "price": 0.6125})],
                        }
                    )
                ],
            }
        )
        return tariff

    def test_a_user_of_another_company_cannot_read_the_tariff_lines(self):
        company_b = self.env["res.company"].create({"name": "Other Landlord Ltd"})
        user_b = new_test_user(
            self.env,
            login="pe_officer_b",
            groups="prepaid_energy.group_prepaid_officer",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        tariff = self._tariff_with_every_line(self.company)
        records = {
            "prepaid.tariff.version": tariff.version_ids,
            "prepaid.tariff.season": tariff.version_ids.season_ids,
            "prepaid.tariff.period": tariff.version_ids.period_ids
            | tariff.version_ids.season_ids.period_ids,
            "prepaid.tariff.price": tariff.version_ids.price_ids
            | tariff.version_ids.season_ids.price_ids,
            "prepaid.tariff.tier": tariff.version_ids.tier_ids,
            "prepaid.holiday.calendar": tariff.holiday_calendar_id,
            "prepaid.holiday": tariff.holiday_calendar_id.holiday_ids,
        }
        self.assertEqual(set(records), set(TARIFF_LINE_MODELS))
        for model, own in records.items():
            with self.subTest(model=model):
                self.assertTrue(own)
                self.assertEqual(own.company_id, self.company)
                # the company's own officers read them; company B's see none of them
                own.with_user(self.manager).check_access("read")
                self.assertFalse(self.env[model].with_user(user_b).search([("id", "in", own.ids)]))
                with self.assertRaises(AccessError):
                    own.with_user(user_b).read(["display_name"])
        # a tariff shared by every company (no company) stays readable by all
        shared = self._create_tou_tier_tariff(company_id=False, name="Shared", code="SHARED")
        self.assertEqual(
            self.env["prepaid.tariff.tier"]
            .with_user(user_b)
            .search([("id", "in", shared.version_ids.tier_ids.ids)]),
            shared.version_ids.tier_ids,
        )
