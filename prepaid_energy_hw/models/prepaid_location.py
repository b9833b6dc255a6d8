from odoo import fields, models


class PrepaidLocation(models.Model):
    _inherit = "prepaid.location"

    # Site settings of remote switching (read through site_id, as the others).
    offline_after_cycles = fields.Integer(
        string="Offline after (cycles)",
        default=3,
        help="A meter or gateway that misses this many read cycles in a row is offline; "
        "it comes back by itself at the next answer.",
    )
    overload_reconnect_minutes = fields.Integer(
        string="Reconnect after overload (min)",
        default=5,
        help="A relay the meter's protection opened (overload, malicious load) is closed "
        "again after this many minutes...",
    )
    overload_max_reconnects = fields.Integer(
        string="Automatic reconnects a day",
        default=3,
        help="...at most this many times a day; after that only staff reconnect it.",
    )
    no_cut_calendar_id = fields.Many2one(
        "prepaid.holiday.calendar",
        string="No disconnection on holidays of",
        help="No automatic disconnection on the public holidays of this calendar.",
    )
    no_cut_weekends = fields.Boolean(
        string="No disconnection at weekends",
        help="Saturdays and Sundays count as no-cut days, like holidays.",
    )
    paid_but_off_minutes = fields.Integer(
        string="Paid but off after (min)",
        default=30,
        help="An open account with credit whose relay is read open for longer than this "
        "raises an activity for staff.",
    )
    gateway_ids = fields.One2many("prepaid.gateway", "site_id", string="Gateways")
