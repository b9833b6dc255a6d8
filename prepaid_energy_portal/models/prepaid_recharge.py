from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from prepaid_energy_core import selfservice

#: fields only the online payment flow sets (as superuser, after the provider said "paid")
ONLINE_FIELDS = {"payment_transaction_id"}


class PrepaidRecharge(models.Model):
    _name = "prepaid.recharge"
    _inherit = ["prepaid.recharge", "portal.mixin"]

    payment_transaction_id = fields.Many2one(
        "payment.transaction",
        string="Online payment",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="The payment provider's transaction this recharge credits.",
    )

    _sql_constraints = [
        (
            "payment_transaction_unique",
            "UNIQUE(payment_transaction_id)",
            "An online payment credits one recharge, never two.",
        ),
    ]

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for recharge in self:
            recharge.access_url = f"/my/prepaid/recharges/{recharge.id}"
        return result

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Receipt %s", self.name)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(ONLINE_FIELDS.intersection(vals) for vals in vals_list):
            raise AccessError(self.env._("Only the online payment flow links a transaction."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and ONLINE_FIELDS.intersection(vals):
            raise AccessError(self.env._("Only the online payment flow links a transaction."))
        return super().write(vals)

    # ------------------------------------------------------------------ booking

    def _check_request(self):
        """A recharge the provider already confirmed is booked whatever the balance
        reached since (the cap was checked when the payment started: refusing now would
        leave the tenant's money outside the wallet); the rest is checked as usual."""
        paid_online = self.filtered(lambda recharge: recharge._is_paid_online())
        for recharge in paid_online:
            recharge._check_paid_online()
        return super(PrepaidRecharge, self - paid_online)._check_request()

    def _is_paid_online(self):
        self.ensure_one()
        return (
            self.operation == "recharge"
            and self.payment_transaction_id
            and self.payment_transaction_id.state == "done"
        )

    def _check_paid_online(self):
        self.ensure_one()
        transaction = self.payment_transaction_id
        account = self.account_id
        if account.state != "open":
            raise UserError(
                self.env._(
                    "Account %(account)s is not open: the online payment %(reference)s "
                    "cannot be credited to it.",
                    account=account.display_name,
                    reference=transaction.reference,
                )
            )
        if transaction.prepaid_account_id != account or (
            transaction.currency_id != self.currency_id
            or self.currency_id.compare_amounts(transaction.amount, self.amount)
        ):
            raise UserError(
                self.env._(
                    "Online payment %(reference)s does not match recharge %(recharge)s "
                    "(account, amount or currency).",
                    reference=transaction.reference,
                    recharge=self.display_name,
                )
            )
        self._check_channel()

    def _prepare_payment_vals(self):
        vals = super()._prepare_payment_vals()
        transaction = self.payment_transaction_id
        if transaction:
            vals.update(
                payment_transaction_id=transaction.id,
                payment_token_id=transaction.token_id.id,
            )
        return vals

    def _execute(self):
        result = super()._execute()
        recharge = self.sudo()
        if recharge.operation == "recharge" and recharge.state == "done":
            self.env["prepaid.notification"].sudo()._notify(
                recharge.account_id,
                selfservice.RECHARGE_RECEIVED,
                f"{selfservice.RECHARGE_RECEIVED}:{recharge.id}",
                recharge=recharge,
                balance=recharge.balance_after,
            )
        return result
