"""User A gets a 404 on every record and route of tenant B, whatever the id or token.

Pages answer 404 (not a redirect, not a 403 that would tell the record exists);
JSON routes answer a JSON-RPC error of code 404; the ORM itself (record rules)
refuses B's records to A's portal login, through RPC as much as through pages.
"""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import PortalCase


@tagged("post_install", "-at_install")
class TestPortalIdor(PortalCase):
    def setUp(self):
        super().setUp()
        self.reading_b = self.meter_b.last_reading_id
        self.binding_b = (
            self.env["prepaid.portal.binding"]
            .sudo()
            .create({"user_id": self.user_b.id, "account_id": self.account_b.id, "lookup": "x"})
        )
        self.authenticate("alice", "alice")

    def _b_pages(self):
        account, meter, recharge = self.account_b, self.meter_b, self.recharge_b
        return [
            f"/my/prepaid/accounts/{account.id}",
            f"/my/prepaid/accounts/{account.id}?topup=1",
            f"/my/prepaid/accounts/{account.id}/topup",
            f"/my/prepaid/accounts/{account.id}/topup?amount=50",
            f"/my/prepaid/meters/{meter.id}",
            f"/my/prepaid/meters/{meter.id}/page/2",
            f"/my/prepaid/meters/{meter.id}/readings.csv",
            f"/my/prepaid/recharges/{recharge.id}",
            f"/my/prepaid/recharges/{recharge.id}?report_type=html",
            f"/my/prepaid/recharges/{recharge.id}?report_type=pdf&download=1",
        ]

    def test_every_page_of_b_is_a_404_for_a(self):
        for url in self._b_pages():
            with self.subTest(url=url):
                response = self._get(url)
                self.assertEqual(response.status_code, 404, url)
                self.assertNotIn(self.tenant_b.name, response.text)
                self.assertNotIn(self.account_b.name, response.text)

    def test_ids_that_do_not_exist_are_the_same_404(self):
        missing = self.env["prepaid.account"].sudo().search([], order="id desc", limit=1).id + 1000
        for url in (
            f"/my/prepaid/accounts/{missing}",
            f"/my/prepaid/meters/{missing}",
            f"/my/prepaid/recharges/{missing}",
        ):
            self.assertEqual(self._get(url).status_code, 404, url)

    def test_json_routes_of_b_answer_404(self):
        for url, params in (
            (f"/my/prepaid/accounts/{self.account_b.id}/usage", {}),
            (f"/my/prepaid/accounts/{self.account_b.id}/usage", {"meter_id": self.meter_b.id}),
            # A's account, B's meter: the meter must be one of the account's
            (f"/my/prepaid/accounts/{self.account.id}/usage", {"meter_id": self.meter_b.id}),
            (
                f"/my/prepaid/accounts/{self.account_b.id}/topup/transaction",
                {"amount": 50.0, "access_token": "x", "provider_id": 1, "flow": "direct"},
            ),
        ):
            with self.subTest(url=url, params=params):
                result, error = self._json(url, params)
                self.assertIsNone(result)
                self.assertEqual(error["code"], 404, error)

    def test_b_forms_refuse_a(self):
        token = self._form_csrf_token("/my/prepaid/link")  # a valid token of A's session
        for action in ("off", "on"):
            response = self.url_open(
                f"/my/prepaid/meters/{self.meter_b.id}/switch",
                data={"csrf_token": token, "switch_action": action},
                allow_redirects=False,
                timeout=60,
            )
            self.assertEqual(response.status_code, 404)

    def test_access_tokens_open_only_their_own_document(self):
        token_b = self.account_b._portal_ensure_token()
        token_a = self.account._portal_ensure_token()
        self.authenticate(None, None)  # a visitor with a link from an e-mail
        ok = self._get(f"/my/prepaid/accounts/{self.account_b.id}", access_token=token_b)
        self.assertEqual(ok.status_code, 200)
        self.assertIn(self.account_b.name, ok.text)
        for account_id, token in (
            (self.account_b.id, token_a),  # another document's token
            (self.account_b.id, token_b[:-1] + ("0" if token_b[-1] != "0" else "1")),
            (self.account_b.id, ""),
            (self.account.id, token_b),
        ):
            response = self._get(f"/my/prepaid/accounts/{account_id}", access_token=token)
            self.assertEqual(response.status_code, 404, (account_id, token))
        # the chart data follows the same token
        data, error = self._json(
            f"/my/prepaid/accounts/{self.account_b.id}/usage", {"access_token": token_b}
        )
        self.assertFalse(error)
        self.assertEqual(len(data["daily"]["usage"]), 30)
        _data, error = self._json(
            f"/my/prepaid/accounts/{self.account_b.id}/usage", {"access_token": token_a}
        )
        self.assertEqual(error["code"], 404)
        # a receipt's token opens that receipt, not the account's others
        receipt_token = self.recharge_b._portal_ensure_token()
        receipt = self._get(
            f"/my/prepaid/recharges/{self.recharge_b.id}",
            access_token=receipt_token,
            report_type="html",
        )
        self.assertEqual(receipt.status_code, 200)
        other = self._get(
            f"/my/prepaid/recharges/{self.recharge.id}",
            access_token=receipt_token,
            report_type="html",
        )
        self.assertEqual(other.status_code, 404)
        # a token never gives the pages that need a login
        self.assertIn(
            self._get(f"/my/prepaid/accounts/{self.account_b.id}/topup").status_code, (302, 303)
        )

    def test_record_rules_refuse_b_to_a_through_the_orm(self):
        env = self.env(user=self.user_a)
        for model, own, others in (
            ("prepaid.account", self.account, self.account_b),
            ("prepaid.meter", self.meter, self.meter_b),
            ("prepaid.reading", self.meter.last_reading_id, self.reading_b),
            ("prepaid.recharge", self.recharge, self.recharge_b),
            (
                "prepaid.ledger.line",
                self.account.ledger_line_ids[:1],
                self.account_b.ledger_line_ids[:1],
            ),
            ("prepaid.charge", self.meter.charge_ids[:1], self.meter_b.charge_ids[:1]),
            ("prepaid.portal.binding", self.env["prepaid.portal.binding"], self.binding_b),
        ):
            with self.subTest(model=model):
                visible = env[model].search([])
                self.assertNotIn(others.id, visible.ids)
                if own:
                    self.assertIn(own.id, visible.ids)
                with self.assertRaises(AccessError):
                    env[model].browse(others.id).read(["id"])
        # and A writes nothing: portal users have read access only
        with self.assertRaises(AccessError):
            env["prepaid.account"].browse(self.account.id).write({"credit_limit": 1000})
        with self.assertRaises(AccessError):
            env["prepaid.recharge"].create(
                {"account_id": self.account.id, "amount": 10, "operation": "recharge"}
            )

    def test_a_cannot_change_b_notification_preferences(self):
        env = self.env(user=self.user_a)
        Preference = env["prepaid.notification.preference"]
        with self.assertRaises(AccessError):
            Preference.create({"partner_id": self.tenant_b.id})
        preference_b = (
            self.env["prepaid.notification.preference"]
            .sudo()
            .create({"partner_id": self.tenant_b.id})
        )
        self.assertFalse(Preference.search([("id", "=", preference_b.id)]))
        with self.assertRaises(AccessError):
            Preference.browse(preference_b.id).write({"sms_enabled": False})
        self.assertTrue(preference_b.sms_enabled)
        # nor send A's notifications to B's people
        with self.assertRaises(Exception):  # noqa: B017 -- ValidationError or AccessError
            with self.env.cr.savepoint():
                Preference.create(
                    {
                        "partner_id": self.tenant.id,
                        "recipient_ids": [(6, 0, self.user_b.partner_id.ids)],
                    }
                )

    def test_b_binding_requests_are_invisible_to_a(self):
        response = self._get("/my/prepaid/link")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self.tenant_b.name, response.text)

    def test_the_chart_of_a_meter_never_includes_a_previous_tenant(self):
        """A meter moves from B to A: A's charts and readings start at A's opening."""
        self.account_b.sudo().write({"state": "closed"})
        before_ids = self.meter_b.reading_ids.ids
        self.meter_b.sudo().write({"account_id": self.account.id})
        env = self.env(user=self.user_a)
        self.assertEqual(
            env["prepaid.meter"].search([("id", "=", self.meter_b.id)]).id, self.meter_b.id
        )
        self.assertFalse(env["prepaid.reading"].search([("id", "in", before_ids)]))
        data, error = self._json(
            f"/my/prepaid/accounts/{self.account.id}/usage", {"meter_id": self.meter_b.id}
        )
        self.assertFalse(error)
        self.assertEqual(sum(data["daily"]["usage"]), 0)


@tagged("post_install", "-at_install")
class TestPortalControllersCheckFirst(PortalCase):
    """No code of the controllers reads as superuser before it has checked access."""

    def test_no_controller_calls_sudo_before_an_access_check(self):
        import ast
        import inspect

        from ..controllers import payment, portal

        checks = {
            "_prepaid_record",
            "_document_check_access",
            "check_access",
            "search",  # as the user: the record rules filter
            "_portal_request",  # the receipt proof, compared in constant time
            "_for_tenant",  # as the user: the record rules filter
        }
        # sudo() on what is no record of the request's choosing
        reasons = {
            # called by the routes after their check of the account
            "_prepaid_payment_form_values": "payment providers of the checked account",
            "_prepaid_check_provider": "a provider (public data), after the account check",
            # the user's own tenant, not an id from the request
            "_prepaid_tenant_contacts": "the contacts of the user's own tenant",
            "_prepaid_render_notifications": "the user's own tenant",
        }
        seen = set()
        for module in (portal, payment):
            tree = ast.parse(inspect.getsource(module))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef):
                    continue
                calls = sorted(
                    (
                        node
                        for node in ast.walk(function)
                        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    ),
                    # by where each call ends: in a.search().sudo(), search comes first
                    key=lambda node: (node.end_lineno, node.end_col_offset),
                )
                names = [node.func.attr for node in calls]
                if "sudo" not in names:
                    continue
                seen.add(function.name)
                if function.name in reasons:
                    continue
                self.assertTrue(
                    checks.intersection(names[: names.index("sudo")]),
                    f"{function.name} calls sudo() before any access check",
                )
        self.assertTrue(set(reasons) <= seen, set(reasons) - seen)
        self.assertIn("_prepaid_record", seen)
