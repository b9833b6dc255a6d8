"""Shared set-up of the fee, common-area, shift, audit and report tests.

On top of the money side's site (Harbour Park, UTC, electricity 0.50 a kWh):
unit 101 (120.50 m²) of Lotus Trading, unit 102 (30 m²) of Peony Foods, unit 103
(20 m²) vacant, a meter in each, and a common-area meter on the site itself.
"""

from odoo import Command
from odoo.tests import Form

from .test_money_common import MoneyCase


class FeeCase(MoneyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Location = cls.env["prepaid.location"]
        cls.unit.write({"area": 120.5, "code": "101"})
        cls.unit2 = Location.create(
            {
                "name": "102",
                "code": "102",
                "location_type": "unit",
                "parent_id": cls.site.id,
                "area": 30.0,
            }
        )
        cls.unit3 = Location.create(
            {
                "name": "103",
                "code": "103",
                "location_type": "unit",
                "parent_id": cls.site.id,
                "area": 20.0,
            }
        )
        cls.tenant2 = cls.env["res.partner"].create(
            {"name": "Peony Foods", "property_account_receivable_id": cls.receivable.id}
        )
        cls.occupancy2 = cls.env["prepaid.occupancy"].create(
            {"partner_id": cls.tenant2.id, "unit_id": cls.unit2.id, "date_from": "2020-01-01"}
        )
        cls.occupancy2.action_activate()
        cls.meter2 = cls._create_meter("EL-0002", cls.unit2)
        cls.meter3 = cls._create_meter("EL-0003", cls.unit3)
        cls.common_meter = cls._create_meter("EL-COMMON", cls.site)
        # fee amounts are gross, like tariffs: their products' taxes are included
        for xmlid in (
            "product_rent",
            "product_property_fee",
            "product_meter_rental",
            "product_common_area",
        ):
            cls.env.ref(f"prepaid_energy.{xmlid}").write(
                {
                    "taxes_id": [Command.set(cls.tax_included.ids)],
                    "property_account_income_id": cls.revenue.id,
                }
            )

    @classmethod
    def _open_class_account(cls, occupancy):
        """An open account of ``occupancy`` billing its unit's meters from 0 (set-up data,
        without the wizard)."""
        account = cls.env["prepaid.account"].create(
            {"partner_id": occupancy.partner_id.id, "occupancy_id": occupancy.id}
        )
        account.write({"state": "open"})
        for meter in occupancy.unit_id.meter_ids:
            meter._open_on_account(account, 0.0)
        return account

    def _open_for(self, occupancy, recharge=0.0, start=0.0):
        """Open the occupancy's account through the wizard, as an officer would."""
        env = self.env(user=self.officer)
        with Form(env["prepaid.account.open.wizard"]) as wizard:
            wizard.occupancy_id = occupancy.with_env(env)
            for index in range(len(wizard.line_ids)):
                with wizard.line_ids.edit(index) as line:
                    line.reading_total = start
            if recharge:
                wizard.first_recharge_amount = recharge
                wizard.journal_id = self.cash_journal.with_env(env)
        action = wizard.record.action_confirm()
        return self.env["prepaid.account"].browse(action["res_id"])

    def _scheme(self, **values):
        """A fee scheme entered by a manager through its form."""
        env = self.env(user=self.manager)
        with Form(env["prepaid.fee.scheme"]) as form:
            for name, value in values.items():
                setattr(form, name, value)
        return form.record.with_env(self.env)

    def _subscribe(self, account, scheme, date_start, **values):
        return (
            self.env["prepaid.fee.subscription"]
            .with_user(self.officer)
            .create(
                {
                    "account_id": account.id,
                    "scheme_id": scheme.id,
                    "date_start": date_start,
                    **values,
                }
            )
            .with_env(self.env)
        )

    def _readings(self, meter, rows):
        """Ingest ``[(naive UTC timestamp, total register[, {band: register}])]`` for
        ``meter``."""
        result = self.env["prepaid.reading"]._ingest(
            [
                {
                    "meter_id": meter.id,
                    "timestamp": row[0],
                    "total": row[1],
                    "source": "import",
                    **(row[2] if len(row) > 2 else {}),
                }
                for row in rows
            ],
            strict=True,
        )
        self.assertFalse(result["rejected"], result["rejected"])
        return result["created"]

    @staticmethod
    def _set_product_taxes(product, taxes):
        product.write({"taxes_id": [Command.set(taxes.ids)]})
