"""A tenant tops up on a phone: the browser tour on a 360 x 740 touch screen."""

from odoo.tests import tagged

from .common import TopupCase


@tagged("post_install", "-at_install")
class TestPortalTopupTour(TopupCase):
    # a small phone, as Odoo's own mobile tours set it (point_of_sale, pos_self_order)
    browser_size = "360x740"
    touch_enabled = True

    def test_top_up_on_a_phone(self):
        balance = self.account.balance
        self.start_tour("/my", "prepaid_portal_topup_tour", login="alice", timeout=180)
        recharge = self.env["prepaid.recharge"].search(
            [("account_id", "=", self.account.id), ("payment_transaction_id", "!=", False)]
        )
        self.assertEqual(len(recharge), 1)
        self.assertEqual((recharge.amount, recharge.state), (100.0, "done"))
        self.assertEqual(recharge.payment_transaction_id.provider_id, self.provider)
        self.assertEqual(len(recharge.payment_id), 1)
        self.assertAlmostEqual(self.account.balance, balance + 100.0)
