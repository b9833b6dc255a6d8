"""The portal's forms: CSRF enforced on each, linking a login by receipt proof (rate
limited, approved by staff), notification settings kept to the tenant's main contact."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import PortalCase

#: every form of the portal that changes something, with valid data
FORMS = ("/my/prepaid/link", "/my/prepaid/notifications")


@tagged("post_install", "-at_install")
class TestPortalForms(PortalCase):
    def _link(self, lookup, proof, token_from="/my/prepaid/link"):
        return self._post_form("/my/prepaid/link", {"lookup": lookup, "proof": proof}, token_from)

    def _settings(self, token_from="/my/prepaid/notifications", **values):
        data = {
            "email_enabled": "1",
            "sms_enabled": "1",
            "event_alarm1": "1",
            "event_arrears": "1",
            "quiet_hour_start": "23:00",
            "quiet_hour_end": "06:30",
            **values,
        }
        return self._post_form("/my/prepaid/notifications", data, token_from)

    # ------------------------------------------------------------------ CSRF

    def test_every_form_refuses_a_post_without_csrf_token(self):
        self.authenticate("olga", "olga")
        Binding = self.env["prepaid.portal.binding"].sudo()
        before = Binding.search_count([])
        response = self._link(self.account.name, self.account.portal_code, token_from=None)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Binding.search_count([]), before)

        self.authenticate("alice", "alice")
        response = self._settings(token_from=None)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(
            self.env["prepaid.notification.preference"].search(
                [("partner_id", "=", self.tenant.id)]
            )
        )
        response = self.url_open(
            f"/my/prepaid/meters/{self.meter.id}/switch",
            data={"switch_action": "off"},
            allow_redirects=False,
            timeout=60,
        )
        self.assertEqual(response.status_code, 400)

    def test_a_token_of_another_session_is_refused(self):
        self.authenticate("olga", "olga")
        token = self._form_csrf_token("/my/prepaid/link")
        self.authenticate("albert", "albert")
        response = self.url_open(
            "/my/prepaid/link",
            data={"csrf_token": token, "lookup": self.account.name, "proof": "X"},
            allow_redirects=False,
            timeout=60,
        )
        self.assertEqual(response.status_code, 400)

    # ------------------------------------------------------------------ linking a login

    def test_linking_with_the_receipt_proof_then_staff_approve(self):
        self.authenticate("olga", "olga")
        code = self.account._portal_code_display().lower()  # as typed off the receipt
        response = self._link(f" {self.account.name.lower()} ", code)
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prepaid_link_sent", response.text)
        binding = self.env["prepaid.portal.binding"].search([("user_id", "=", self.outsider.id)])
        self.assertEqual(
            (binding.state, binding.account_id, binding.tenant_id),
            ("pending", self.account, self.tenant),
        )
        self.assertTrue(binding.activity_ids, "staff are asked to approve")
        # not linked before approval
        self.assertEqual(self._get(self.account.access_url).status_code, 404)
        with self.assertRaises(AccessError):
            binding.with_user(self.cashier).action_approve()
        binding.with_user(self.officer).action_approve()
        self.assertEqual(binding.state, "approved")
        self.assertEqual(self.outsider.partner_id.parent_id, self.tenant)
        self.assertEqual(self.outsider.partner_id.commercial_partner_id, self.tenant)
        self.assertEqual(self.tenant.prepaid_main_contact_id, self.user_a.partner_id)  # kept
        self.assertFalse(binding.activity_ids)
        self.assertEqual(self._get(self.account.access_url).status_code, 200)

    def test_linking_by_meter_serial(self):
        self.authenticate("olga", "olga")
        self._link("wa-0001", self.account.portal_code)
        binding = self.env["prepaid.portal.binding"].search([("user_id", "=", self.outsider.id)])
        self.assertEqual(binding.account_id, self.account)

    def test_a_wrong_proof_tells_nothing_and_five_block_for_an_hour(self):
        self.authenticate("olga", "olga")
        Binding = self.env["prepaid.portal.binding"]
        for lookup in (self.account.name, "PA/1999/99999", self.account.name, "EL-0001", "nope"):
            response = self._link(lookup, "WRONG-CODE")
            self.assertIn("No open account matches this number and code", response.text)
        refused = Binding.search([("user_id", "=", self.outsider.id)])
        self.assertEqual(refused.mapped("state"), ["refused"] * 5)
        # the sixth, even with the right code, waits
        response = self._link(self.account.name, self.account.portal_code)
        self.assertIn("Too many wrong codes", response.text)
        self.assertFalse(
            Binding.search([("user_id", "=", self.outsider.id), ("state", "=", "pending")])
        )
        # an hour later it goes through
        self.env.cr.execute(
            "UPDATE prepaid_portal_binding SET create_date = create_date - interval '61 minutes'"
            " WHERE user_id = %s",
            [self.outsider.id],
        )
        Binding.invalidate_model(["create_date"])
        response = self._link(self.account.name, self.account.portal_code)
        self.assertIn("o_prepaid_link_sent", response.text)

    def test_a_new_code_retires_the_old_one(self):
        old = self.account.portal_code
        self.account.with_user(self.officer).action_portal_new_code()
        self.assertNotEqual(self.account.portal_code, old)
        self.assertFalse(self.account._portal_code_matches(old))
        self.assertTrue(self.account._portal_code_matches(self.account._portal_code_display()))

    def test_every_account_has_its_own_code(self):
        codes = self.env["prepaid.account"].search([]).mapped("portal_code")
        self.assertTrue(all(codes))
        self.assertEqual(len(set(codes)), len(codes))

    def test_a_linked_or_staff_user_cannot_ask_again(self):
        Binding = self.env["prepaid.portal.binding"]
        with self.assertRaisesRegex(UserError, "already acts for"):
            Binding.with_user(self.user_a)._portal_request(
                self.account.name, self.account.portal_code
            )
        with self.assertRaises(AccessError):
            Binding.with_user(self.officer)._portal_request(
                self.account.name, self.account.portal_code
            )

    def test_a_contact_of_another_company_is_not_moved_silently(self):
        binding = (
            self.env["prepaid.portal.binding"]
            .with_user(self.user_b)
            ._portal_request(self.account.name, self.account.portal_code)
        )
        with self.assertRaisesRegex(UserError, "contact of Orchid Foods"):
            binding.with_user(self.officer).action_approve()
        self.assertEqual(self.user_b.partner_id.parent_id, self.tenant_b)
        binding.with_user(self.officer).action_reject()
        self.assertEqual(binding.state, "rejected")

    # ------------------------------------------------------------------ notification settings

    def test_the_main_contact_saves_the_tenant_settings(self):
        self.authenticate("alice", "alice")
        response = self._settings(recipient_ids=str(self.user_a2.partner_id.id))
        self.assertIn("o_prepaid_preferences_saved", response.text)
        preference = self.env["prepaid.notification.preference"].search(
            [("partner_id", "=", self.tenant.id)]
        )
        self.assertTrue(preference.email_enabled and preference.sms_enabled)
        self.assertTrue(preference.event_alarm1 and preference.event_arrears)
        self.assertFalse(preference.event_alarm2 or preference.event_recharge)  # not ticked
        self.assertEqual((preference.quiet_hour_start, preference.quiet_hour_end), (23.0, 6.5))
        self.assertEqual(preference.recipient_ids, self.user_a2.partner_id)
        self.assertIn('value="23:00"', self._get("/my/prepaid/notifications").text)

    def test_another_contact_cannot_change_them(self):
        self.authenticate("albert", "albert")
        page = self._get("/my/prepaid/notifications")
        self.assertIn("Only the main contact", page.text)
        response = self._settings()
        self.assertIn("o_prepaid_preferences_error", response.text)
        self.assertFalse(
            self.env["prepaid.notification.preference"].search(
                [("partner_id", "=", self.tenant.id)]
            )
        )

    def test_bad_settings_are_refused_with_nothing_written(self):
        self.authenticate("alice", "alice")
        response = self._settings(quiet_hour_start="late")
        self.assertIn("HH:MM", response.text)
        response = self._settings(recipient_ids=str(self.user_b.partner_id.id))
        self.assertIn("your own contacts", response.text)
        self.assertFalse(
            self.env["prepaid.notification.preference"].search(
                [("partner_id", "=", self.tenant.id)]
            )
        )
