"""Alarm levels from opening to closing, their colours and the times tenants read."""

from lxml import etree
from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools.safe_eval import safe_eval

from .test_money_common import MoneyCase

LEVELS = ("normal", "alarm1", "alarm2", "arrears")


@tagged("post_install", "-at_install")
class TestMoneyAlarms(MoneyCase):
    def test_a_new_account_at_zero_is_in_arrears_from_the_start(self):
        account = self._open_account()  # no first recharge: 0.00, the arrears threshold
        self.assertAlmostEqual(account.balance, 0.0)
        self.assertTrue(account.in_arrears)
        self.assertEqual(account.alarm_level, "arrears")  # was "normal" until a posting
        self.assertEqual(self.meter.state, "arrears")
        self.assertFalse(self._alarm_messages(account))  # opening is no reason to nag
        self._recharge(account, 100.0)
        self.assertEqual(account.alarm_level, "normal")
        self.assertEqual(self.meter.state, "normal")
        self.assertFalse(account.in_arrears)

    def test_closing_ends_the_alarms(self):
        account = self._open_account(first_recharge_amount=100.0, journal_id=self.cash_journal)
        self._consume(account, 40.0)  # 60.00: normal
        alarms_before = self._alarm_messages(account)
        wizard = (
            self.env["prepaid.account.close.wizard"]
            .with_user(self.officer)
            .create(
                {
                    "account_id": account.id,
                    "settlement": "refund",
                    "journal_id": self.cash_journal.id,
                    "line_ids": [
                        Command.create({"meter_id": self.meter.id, "reading_total": 1000})
                    ],
                }
            )
        )
        wizard.action_confirm()
        # refunding the 60.00 took the wallet to 0.00: the departing tenant is not asked
        # to recharge, and the closed account is in no alarm at all
        self.assertEqual(account.state, "closed")
        self.assertAlmostEqual(account.balance, 0.0)
        self.assertEqual(self._alarm_messages(account), alarms_before)
        self.assertEqual(account.alarm_level, "normal")
        self.assertFalse(account.in_arrears)
        self.assertEqual(self.meter.state, "not_opened")

    def test_an_alarm_says_when_on_the_site_clock(self):
        site = self._create_site(self.company, "Jing'an", tz="Asia/Shanghai")
        unit = self.env["prepaid.location"].create(
            {"name": "J-1", "location_type": "unit", "parent_id": site.id}
        )
        account = self.env["prepaid.account"].create(
            {"partner_id": self.tenant.id, "unit_id": unit.id}
        )
        account.state = "open"
        self._recharge(account, 100.0)
        with freeze_time("2025-03-04 02:00:00"):  # 10:00 in Shanghai
            self._consume(account, 60.0)  # 40.00: alarm 1
        body = self._alarm_messages(account)[0].body
        self.assertIn("Alarm 1", body)
        self.assertIn("10:00", body)
        self.assertIn("Asia/Shanghai", body)
        self.assertNotIn("02:00", body)

    def test_each_level_has_its_own_colour(self):
        # the account's list, form and kanban; the meter's list and kanban
        expected_badges = {"prepaid.account": 3, "prepaid.meter": 2}
        for model, field in (("prepaid.account", "alarm_level"), ("prepaid.meter", "state")):
            badges = 0
            for view_type in ("list", "form", "kanban"):
                arch = self.env[model].get_view(view_type=view_type)["arch"]
                for node in etree.fromstring(arch).iter("field"):
                    if node.get("name") != field or node.get("widget") != "badge":
                        continue
                    badges += 1
                    decorations = {
                        level: {
                            name
                            for name, expression in node.attrib.items()
                            if name.startswith("decoration-")
                            and safe_eval(expression, {field: level})
                        }
                        for level in LEVELS
                    }
                    with self.subTest(model=model, view=view_type):
                        self.assertTrue(all(len(names) == 1 for names in decorations.values()))
                        colours = {next(iter(names)) for names in decorations.values()}
                        self.assertEqual(len(colours), len(LEVELS), decorations)
            self.assertEqual(badges, expected_badges[model], model)
