from odoo import models


class PrepaidAccountClosing(models.Model):
    _inherit = "prepaid.account.closing"

    def _final_reading(self, meter):
        """The last reading of ``meter`` up to the closing (what the move-out shows)."""
        self.ensure_one()
        return (
            self.env["prepaid.reading"]
            .sudo()
            .search(
                [
                    ("meter_id", "=", meter.id),
                    ("timestamp", "<=", self.date),
                    ("state", "!=", "rejected"),
                ],
                order="timestamp desc, id desc",
                limit=1,
            )
        )

    def _open_fee_invoices(self):
        """The account's fee invoices still to pay (the tenant owes them after moving out)."""
        self.ensure_one()
        return self.account_id.sudo()._open_fee_invoices()

    def action_print_moveout(self):
        return self.env.ref("prepaid_energy.action_report_prepaid_moveout").report_action(
            self, config=False
        )
