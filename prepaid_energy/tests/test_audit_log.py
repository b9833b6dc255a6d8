"""Operator audit: who did what and when, written by small hooks, append-only."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .test_fees_common import FeeCase


@tagged("post_install", "-at_install")
class TestAuditLog(FeeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._open_class_account(cls.occupancy)

    def _entries(self, **filters):
        domain = [(name, "=", value) for name, value in filters.items()]
        return self.env["prepaid.audit.log"].with_user(self.manager).search(domain)

    def test_money_operations_and_approvals_are_logged_with_operator_and_amount(self):
        recharge = self._recharge(self.account, 300.0)
        big_refund = self._recharge(self.account, 150.0, operation="refund", reason="Moving out")
        self.assertEqual(big_refund.state, "to_approve")
        rejected = self._recharge(self.account, 120.0, operation="refund")
        big_refund.with_user(self.manager).action_approve()
        rejected.with_user(self.manager).action_reject()
        self.assertRecordValues(
            self._entries(action="recharge"),
            [
                {
                    "user_id": self.cashier.id,
                    "record_name": recharge.name,
                    "account_id": self.account.id,
                    "amount": 300.0,
                    "res_model": "prepaid.recharge",
                    "res_id": recharge.id,
                }
            ],
        )
        # booked at approval: the refund entry is the approving manager's, as is the approval
        self.assertRecordValues(
            self._entries(action="refund"),
            [{"user_id": self.manager.id, "amount": -150.0, "description": "Moving out"}],
        )
        self.assertRecordValues(
            self._entries(action="approval"),
            [{"user_id": self.manager.id, "res_id": big_refund.id}],
        )
        self.assertRecordValues(
            self._entries(action="rejection"), [{"user_id": self.manager.id, "res_id": rejected.id}]
        )
        action = self._entries(action="recharge").action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("prepaid.recharge", recharge.id))

    def test_tariff_price_and_site_setting_changes_say_old_and_new(self):
        version = self.tariff.version_ids
        version.with_user(self.manager).price = 0.6
        self.assertRecordValues(
            self._entries(
                action="price_change", res_model="prepaid.tariff.version", description="Changed"
            ),
            [
                {
                    "user_id": self.manager.id,
                    "description": "Changed",
                    "changes": "Unit price: 0.5 -> 0.6",
                }
            ],
        )
        self.site.with_user(self.manager).write({"alarm1_amount": 60.0, "name": "Harbour Park"})
        changed = self._entries(
            res_model="prepaid.location", res_id=self.site.id, description="Changed"
        )
        self.assertRecordValues(
            changed, [{"action": "setting_change", "changes": "Alarm 1 at: 50.0 -> 60.0"}]
        )
        self.unit.write({"area": 121.0})  # a unit has no settings: not logged
        self.assertFalse(self._entries(res_model="prepaid.location", res_id=self.unit.id))
        tier = (
            self.env["prepaid.tariff.tier"]
            .with_user(self.manager)
            .create({"version_id": version.id, "qty_from": 0.0, "surcharge": 0.0})
        )
        self.assertEqual(
            self._entries(res_model="prepaid.tariff.tier", res_id=tier.id).action, "price_change"
        )

    def test_the_log_is_append_only_readable_by_managers_and_open_to_other_addons(self):
        # the hardware addon logs its relay commands through the same entry point
        entry = (
            self.env["prepaid.audit.log"]
            .with_user(self.officer)
            ._log("relay_command", self.meter, "Trip sent (arrears)", account=self.account)
        )
        self.assertRecordValues(
            entry,
            [
                {
                    "action": "relay_command",
                    "user_id": self.officer.id,
                    "res_model": "prepaid.meter",
                    "res_id": self.meter.id,
                    "record_name": self.meter.display_name,
                    "partner_id": self.tenant.id,
                    "company_id": self.company.id,
                }
            ],
        )
        with self.assertRaisesRegex(UserError, "append-only"):
            entry.sudo().write({"description": "nothing happened"})
        with self.assertRaisesRegex(UserError, "append-only"):
            entry.sudo().unlink()
        with self.assertRaisesRegex(UserError, "written by the system only"):
            self.env["prepaid.audit.log"].sudo().create({"action": "other"})
        with self.assertRaises(AccessError):
            self.env["prepaid.audit.log"].with_user(self.cashier).search([])
        self.assertIn(entry, self.env["prepaid.audit.log"].with_user(self.manager).search([]))

    def test_meter_and_credit_settings_are_logged_not_every_write(self):
        self.meter.with_user(self.manager).write({"keep_power": True, "name": "Shop meter"})
        self.assertRecordValues(
            self._entries(res_model="prepaid.meter", res_id=self.meter.id),
            [
                {
                    "action": "setting_change",
                    "changes": "Keep Power: False -> True",
                    "account_id": self.account.id,
                }
            ],
        )
        self.account.with_user(self.officer).credit_limit = 25.0
        self.assertEqual(
            self._entries(res_model="prepaid.account", res_id=self.account.id).changes,
            "Credit Limit: 0.0 -> 25.0",
        )
        # the wallet's own bookkeeping (balance, alarm level, meter states) is no operator act
        before = self.env["prepaid.audit.log"].search_count([])
        self._consume(self.account, 5.0)
        self.assertEqual(self.env["prepaid.audit.log"].search_count([]), before)
