import datetime

from odoo import fields, models


def _last_month():
    first = fields.Date.today().replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


class PrepaidStatementWizard(models.TransientModel):
    _name = "prepaid.statement.wizard"
    _description = "Print monthly statements"

    account_ids = fields.Many2many("prepaid.account", string="Prepaid accounts", required=True)
    month = fields.Date(
        required=True,
        default=lambda self: _last_month(),
        help="Any day of the month: the statement covers the whole month on the site's clock.",
    )

    def action_print(self):
        self.ensure_one()
        return self.env.ref("prepaid_energy.action_report_prepaid_statement").report_action(
            self.account_ids,
            data={"month": fields.Date.to_string(self.month.replace(day=1))},
            config=False,  # no layout wizard: these documents carry their issuer
        )
