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
        help="Everything metered before this day (00:00 on each site's clock) is invoiced: "
        "one invoice per invoicing period, dated within it.",
    )
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
        # Invoicing writes the books, which officers do not: privileged once the user's
        # right to change these accounts is checked.
        accounts.check_access("write")
        accounts_sudo = accounts.sudo()
        with self.env.cr.savepoint():
            invoices = accounts_sudo._invoice_periods(until=self.date_to)
        if not invoices:
            raise UserError(self.env._("Nothing to invoice before %(date)s.", date=self.date_to))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", invoices.ids)]
        action["context"] = {"create": False}
        return action
