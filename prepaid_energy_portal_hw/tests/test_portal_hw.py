"""The portal with remote meters: the core's simulator over real TCP, the hardware addon's
read cycle and command runner, and the tenant's pages and forms over HTTP.

The tenant's own switch (where the site allows it), its limits, and what the tenant
is told of trips, restores and "paid but still off"; the staff digest's offline meters.
"""

import re

from odoo import Command
from odoo.addons.prepaid_energy_hw.tests.common import HwCase
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPortalHw(HwCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.is_company = True
        cls.site.write({"portal_switch_allowed": True, "portal_switch_limit": 2})
        cls.portal_user = new_test_user(
            cls.env,
            login="dora",
            name="Dora Lotus",
            email="dora@example.com",
            groups="base.group_portal",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.portal_user.partner_id.write({"parent_id": cls.tenant.id, "mobile": "+8613900000001"})
        cls.tenant.prepaid_main_contact_id = cls.portal_user.partner_id

    def setUp(self):
        super().setUp()
        self.env["prepaid.notification.preference"].sudo().create(
            {"partner_id": self.tenant.id, "quiet_hour_start": 0.0, "quiet_hour_end": 0.0}
        )

    # ------------------------------------------------------------------ helpers

    def _page(self, url):
        response = self.url_open(url, allow_redirects=False, timeout=60)
        self.assertEqual(response.status_code, 200, url)
        return response.text

    def _switch(self, action):
        """The switch form of the meter page, posted as the browser does."""
        url = f"/my/prepaid/meters/{self.meter.id}"
        # a token of the session, from any of its forms (the meter page has none when the
        # switch is not offered)
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', self._page("/my/prepaid/link")
        ).group(1)
        response = self.url_open(
            f"{url}/switch",
            data={"csrf_token": token, "switch_action": action},
            allow_redirects=False,
            timeout=60,
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        return response.text

    def _told(self, event, account):
        return self.env["prepaid.notification"].search(
            [("account_id", "=", account.id), ("event", "=", event)]
        )

    def _settle(self):
        self.run_commands_until_settled()
        self.read_cycle()

    # ------------------------------------------------------------------ supply shown

    def test_the_pages_show_the_relay_as_last_read(self):
        account = self.open_metered_account(amount=100)
        self.read_cycle()
        self.authenticate("dora", "dora")
        self.assertIn("Power on", self._page(account.access_url))
        self.meter.with_user(self.officer).action_hw_trip()
        self._settle()
        self.assertEqual(self.meter.relay_state, "open")
        self.assertIn("Power off", self._page(account.access_url))
        self.assertIn("Power off", self._page("/my/prepaid/meters"))

    # ------------------------------------------------------------------ the tenant's switch

    def test_the_tenant_switches_off_and_back_on(self):
        account = self.open_metered_account(amount=100)
        self.read_cycle()
        self.authenticate("dora", "dora")
        page = self._page(f"/my/prepaid/meters/{self.meter.id}")
        self.assertIn("Switch my supply off", page)

        answer = self._switch("off")
        self.assertIn("o_prepaid_switch_done", answer)
        trip = self.commands(action="trip")
        self.assertEqual(
            (trip.origin, trip.open_reason, trip.user_id, trip.state),
            ("tenant", "tenant", self.portal_user, "queued"),
        )
        self.assertEqual(self.applied(), [], "queued: the meter is talked to after commit")
        self._settle()
        self.assertEqual(self.applied(), ["trip"])
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertEqual(
            (self.meter.relay_state, self.meter.relay_open_reason, self.meter.state),
            ("open", "tenant", "tripped"),
        )
        # their own switch is no news, and no "paid but still off" either
        self.assertFalse(self._told("tripped", account))
        self.read_cycle()
        self.assertFalse(self.meter.paid_but_off)
        self.assertFalse(self._told("paid_but_off", account))
        # neither the policy nor a recharge switches it back on behind their back
        self._recharge(account, 50)
        self._settle()
        self.assertEqual(self.applied(), ["trip"])
        self.assertEqual(self.meter.relay_open_reason, "tenant")

        self.assertIn("Switch my supply back on", self._page(f"/my/prepaid/meters/{self.meter.id}"))
        self._switch("on")
        close = self.commands(action="close")
        self.assertEqual((close.origin, close.open_reason), ("tenant", False))
        self._settle()
        self.assertEqual(self.applied(), ["trip", "close"])
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertEqual(self.meter.state, account.alarm_level)
        self.assertFalse(self._told("restored", account))
        self.assertEqual(
            len(
                self.meter.message_ids.filtered(lambda m: "asked from the portal" in (m.body or ""))
            ),
            2,
            "each switch is logged on the meter",
        )

    def test_the_tenant_never_overrides_keep_power_a_staff_trip_or_arrears(self):
        account = self.open_metered_account(amount=100)
        self.read_cycle()
        self.authenticate("dora", "dora")
        self.meter.keep_power = True
        self.assertIn("kept on", self._switch("off"))
        self.assertFalse(self.commands())
        self.meter.keep_power = False

        self.meter.with_user(self.officer).action_hw_trip()  # staff
        self._settle()
        self.assertIn("not by you", self._switch("on"))
        self.assertFalse(self.commands(origin="tenant"))
        self.meter.with_user(self.officer).action_hw_close()
        self._settle()

        # the wallet runs out (as a billing run posts it; the cycles of this test share
        # one reading slot); the policy trips at the next cycle
        self._consume(account, 150)
        self.read_cycle()
        self._settle()
        self.assertEqual(
            self.meter.relay_open_reason,
            "arrears",
            (
                self.meter.policy_code,
                self.meter.policy_reason,
                self.commands().mapped("display_name"),
            ),
        )
        self.assertIn("not by you", self._switch("on"))
        self.assertFalse(self.commands(origin="tenant"))
        self.assertTrue(account.in_arrears)

    def test_a_fees_trip_says_so_and_only_paying_the_fees_restores_it(self):
        self.site.trip_on_overdue_fees = True
        account = self.open_metered_account(amount=100)
        invoices = self.overdue_fee_invoices(account)
        self.read_cycle()
        self._settle()
        self.assertFalse(self.sim_meter().relay_closed)
        self.assertEqual(self.meter.relay_open_reason, "fees")
        self.authenticate("dora", "dora")
        self.assertIn("Power off: fees overdue", self._page(account.access_url))
        refused = self._switch("on")
        self.assertIn("fee invoices are overdue", refused)
        self.assertNotIn("only a recharge", refused)
        self.assertFalse(self.commands(origin="tenant"))
        # a wallet in credit with its fees unpaid is not "paid but still off"
        self.read_cycle()
        self.assertFalse(self.meter.paid_but_off)
        self.assertFalse(self._told("paid_but_off", account))
        self.pay_invoices(invoices)
        self.read_cycle()
        self._settle()
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertIn("Power on", self._page(account.access_url))

    def test_switched_off_by_the_tenant_then_in_arrears_stays_off(self):
        account = self.open_metered_account(amount=20)
        self.read_cycle()
        self.authenticate("dora", "dora")
        self._switch("off")
        self._settle()
        self._consume(account, 30)  # the wallet runs out while the supply is off
        self.assertTrue(account.in_arrears)
        self.assertIn("recharge first", self._switch("on"))
        self.assertEqual(len(self.commands(origin="tenant")), 1)

    def test_switches_are_limited_per_hour_and_one_at_a_time(self):
        self.open_metered_account(amount=100)
        self.read_cycle()
        self.authenticate("dora", "dora")
        self._switch("off")
        self.assertIn("still on its way", self._switch("on"))
        self._settle()
        self._switch("on")
        self._settle()
        answer = self._switch("off")  # a third in the hour, the site allows 2
        self.assertIn("2 times in the last hour", answer)
        self.assertEqual(len(self.commands(origin="tenant")), 2)

    def test_a_site_that_does_not_allow_it_shows_no_switch(self):
        self.site.portal_switch_allowed = False
        self.open_metered_account(amount=100)
        self.read_cycle()
        self.authenticate("dora", "dora")
        self.assertNotIn("o_prepaid_switch_form", self._page(f"/my/prepaid/meters/{self.meter.id}"))
        self.assertIn("cannot be switched", self._switch("off"))
        self.assertFalse(self.commands())

    # ------------------------------------------------------------------ what the tenant is told

    def test_an_arrears_trip_and_the_restore_after_a_recharge_are_told_once(self):
        account = self.open_metered_account(amount=10)
        self.set_register(1100)  # 50.00 against 10.00
        self.read_cycle()
        self._settle()
        self.assertEqual(self.meter.state, "tripped")
        tripped = self._told("tripped", account)
        self.assertEqual(len(tripped), 1)
        self.assertEqual(tripped.meter_id, self.meter)
        sms = self.env["sms.sms"].sudo().search([("number", "=", "+8613900000001")])
        self.assertTrue(any("EL-0001" in body for body in sms.mapped("body")))
        self.read_cycle()
        self.read_cycle()
        self.assertEqual(len(self._told("tripped", account)), 1)
        # the recharge closes the relay (queued after commit, verified by reading back)
        self._recharge(account, 100)
        self._settle()
        self.assertTrue(self.sim_meter().relay_closed)
        self.assertEqual(len(self._told("restored", account)), 1)

    def test_paid_but_still_off_is_told_to_the_tenant_once(self):
        account = self.open_metered_account(amount=100)
        self.meter.effective_profile_id.protection_trips = False
        with self.sim_meter().lock:
            self.sim_meter().relay_closed = False  # opened by nobody we know of
        self.read_cycle()
        self.read_cycle()
        self.assertTrue(self.meter.paid_but_off)
        told = self._told("paid_but_off", account)
        self.assertEqual(len(told), 1)
        self.read_cycle()
        self.assertEqual(len(self._told("paid_but_off", account)), 1)

    def test_the_staff_digest_lists_offline_meters(self):
        self.open_metered_account(amount=100)
        self.read_cycle()
        self.sim_meter().dead = True
        self.read_cycle()
        self.read_cycle()  # offline after 2 missed cycles (the set-up's site)
        self.assertEqual(self.meter.hw_online_state, "offline")
        sections = self.company._prepaid_digest_meters()
        self.assertIn(self.meter, sections["offline"])
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search([("model", "=", "res.company")])
        self.env.ref("prepaid_energy_portal.ir_cron_prepaid_staff_digest").method_direct_trigger()
        digest = Mail.search([("model", "=", "res.company")]) - before
        self.assertEqual(len(digest), 1)
        self.assertLess(digest.body_html.index("Offline"), digest.body_html.index("EL-0001"))
