from odoo import fields, models
from odoo.exceptions import UserError


class PrepaidInvoiceWizard(models.TransientModel):
    """Invoice the consumption and fees of a period now, without waiting for the cron."""

    _name = "prepaid.invoice.wizard"
    _description = "Invoice prepaid consumption"

    date_to = fields.Date(
        string="Invoice up to",
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1),
        help="Everything booked before this day (00:00, company time) is invoiced.",
    )
    invoice_date = fields.Date(help="Empty: the day before 'Invoice up to'.")
    account_ids = fields.Many2many(
        "prepaid.account",
        string="Accounts",
        domain="[('state', 'in', ('open', 'closed'))]",
        help="Empty: every account of the current company.",
    )

    def action_confirm(self):
        self.ensure_one()
        accounts = self.account_ids or self.env["prepaid.account"].search(
            [("company_id", "in", self.env.companies.ids), ("state", "in", ("open", "closed"))]
        )
        accounts.check_access("write")
        with self.env.cr.savepoint():
            invoices = accounts.sudo()._invoice_ledger_lines(self.date_to, self.invoice_date)
        if not invoices:
            raise UserError(self.env._("Nothing to invoice before %(date)s.", date=self.date_to))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", invoices.ids)]
        action["context"] = {"create": False}
        return action
