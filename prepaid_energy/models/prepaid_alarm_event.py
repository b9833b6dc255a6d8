from odoo import api, fields, models

from prepaid_energy_core.vocabulary import LEVEL_LABELS, LEVELS


class PrepaidAlarmEvent(models.Model):
    """A wallet's alarm level changed: the alarm history, written by the account's hook."""

    _name = "prepaid.alarm.event"
    _description = "Prepaid alarm history"
    _order = "date desc, id desc"

    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    account_id = fields.Many2one("prepaid.account", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        related="account_id.partner_id", string="Tenant", store=True, index=True
    )
    site_id = fields.Many2one(related="account_id.site_id", store=True, index=True)
    unit_id = fields.Many2one(related="account_id.unit_id", store=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="account_id.currency_id")
    previous_level = fields.Selection(list(LEVEL_LABELS), string="From")
    level = fields.Selection(list(LEVEL_LABELS), string="To", required=True, index=True)
    direction = fields.Selection(
        [("down", "Worse"), ("up", "Better")], compute="_compute_direction", store=True
    )
    balance = fields.Monetary(aggregator=None, help="The balance when the level changed.")

    @api.depends("previous_level", "level")
    def _compute_direction(self):
        for event in self:
            before = LEVELS.index(event.previous_level) if event.previous_level else 0
            event.direction = "down" if LEVELS.index(event.level or LEVELS[0]) > before else "up"

    def _compute_display_name(self):
        labels = dict(LEVEL_LABELS)
        for event in self:
            event.display_name = (
                f"{event.account_id.name or ''}: {labels.get(event.previous_level, '')} -> "
                f"{labels.get(event.level, '')}"
            )
