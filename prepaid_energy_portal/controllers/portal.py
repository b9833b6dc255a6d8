"""The tenant's pages: /my/prepaid/... (accounts, meters, readings, receipts, link, notifications).

Every route that names a record checks the user's access to it first (the
record rules, or a valid access token for the documents that have one) and
only then reads it as superuser for rendering, as Odoo's own portal does. A
record the user may not see is a 404, whether it exists or not.
"""

import csv
import datetime
import io

from odoo import http
from odoo.addons.payment.controllers import portal as payment_portal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.addons.prepaid_energy.tools import timezone
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command
from odoo.http import content_disposition, request
from werkzeug.exceptions import NotFound

from prepaid_energy_core import selfservice

from ..tools.usage_chart import chart_data

READINGS_PER_PAGE = 50
REGISTERS = ("total", "sharp", "peak", "flat", "valley")


class PrepaidPortal(payment_portal.PaymentPortal):
    # ------------------------------------------------------------------ access

    def _prepaid_record(self, model, record_id, access_token=None):
        """The record ``record_id`` of ``model`` as superuser, once the user may read it
        (record rules, or a valid access token for models that have one). 404 otherwise.
        """
        try:
            if access_token and "access_token" in request.env[model]._fields:
                return self._document_check_access(model, record_id, access_token)
            record = request.env[model].browse(record_id).exists()
            if not record:
                raise MissingError(model)
            record.check_access("read")
        except (AccessError, MissingError, ValueError, TypeError):
            raise NotFound() from None
        return record.sudo()

    @staticmethod
    def _prepaid_tenant_domain(field):
        """Restrict to the user's own tenant, also for an internal user browsing /my (the
        record rules already do it for portal users)."""
        return [(f"{field}.commercial_partner_id", "=", request.env.user.commercial_partner_id.id)]

    def _prepaid_domain(self, model):
        return {
            "prepaid.account": [
                *self._prepaid_tenant_domain("partner_id"),
                ("state", "!=", "draft"),
            ],
            "prepaid.meter": [
                *self._prepaid_tenant_domain("account_id.partner_id"),
                ("account_id.state", "!=", "draft"),
            ],
            "prepaid.recharge": [
                *self._prepaid_tenant_domain("account_id.partner_id"),
                ("state", "=", "done"),
            ],
        }[model]

    # ------------------------------------------------------------------ home

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        for counter, model in (
            ("prepaid_account_count", "prepaid.account"),
            # the notification settings card shows for a tenant with an account (the
            # portal shows a card per counter: it needs its own)
            ("prepaid_settings_count", "prepaid.account"),
            ("prepaid_meter_count", "prepaid.meter"),
            ("prepaid_recharge_count", "prepaid.recharge"),
        ):
            if counter in counters:
                Model = request.env[model]
                values[counter] = (
                    Model.search_count(self._prepaid_domain(model))
                    if Model.has_access("read")
                    else 0
                )
        return values

    def _prepaid_list(self, model, url, page, order, page_name, template, key):
        Model = request.env[model]
        domain = self._prepaid_domain(model)
        pager = portal_pager(
            url=url, total=Model.search_count(domain), page=page, step=self._items_per_page
        )
        records = Model.search(
            domain, order=order, limit=self._items_per_page, offset=pager["offset"]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {key: records.sudo(), "page_name": page_name, "pager": pager, "default_url": url}
        )
        return request.render(template, values)

    @http.route(
        ["/my/prepaid/accounts", "/my/prepaid/accounts/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_prepaid_accounts(self, page=1, **kwargs):
        return self._prepaid_list(
            "prepaid.account",
            "/my/prepaid/accounts",
            page,
            "state desc, name",
            "prepaid_accounts",
            "prepaid_energy_portal.portal_my_prepaid_accounts",
            "accounts",
        )

    @http.route(
        ["/my/prepaid/meters", "/my/prepaid/meters/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_prepaid_meters(self, page=1, **kwargs):
        return self._prepaid_list(
            "prepaid.meter",
            "/my/prepaid/meters",
            page,
            "serial, id",
            "prepaid_meters",
            "prepaid_energy_portal.portal_my_prepaid_meters",
            "meters",
        )

    @http.route(
        ["/my/prepaid/recharges", "/my/prepaid/recharges/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_prepaid_recharges(self, page=1, **kwargs):
        return self._prepaid_list(
            "prepaid.recharge",
            "/my/prepaid/recharges",
            page,
            "date desc, id desc",
            "prepaid_recharges",
            "prepaid_energy_portal.portal_my_prepaid_recharges",
            "recharges",
        )

    # ------------------------------------------------------------------ account

    @http.route("/my/prepaid/accounts/<int:account_id>", type="http", auth="public", website=True)
    def portal_prepaid_account(self, account_id, access_token=None, topup=None, **kwargs):
        account_sudo = self._prepaid_record("prepaid.account", account_id, access_token)
        values = self._prepare_portal_layout_values()
        values.update(self._prepaid_account_values(account_sudo, access_token))
        if topup:
            values["topup_transaction"] = account_sudo.portal_transaction_ids.filtered(
                lambda tx: tx.partner_id == request.env.user.partner_id
            ).sorted("id", reverse=True)[:1]
        return request.render("prepaid_energy_portal.portal_prepaid_account_page", values)

    def _prepaid_account_values(self, account_sudo, access_token=None):
        meters = account_sudo._portal_meters()
        utilities = []
        for meter in meters:
            if meter.utility not in utilities:
                utilities.append(meter.utility)
        return {
            "page_name": "prepaid_account",
            "account": account_sudo,
            "access_token": access_token,
            "as_of": account_sudo._portal_format_time(account_sudo._portal_as_of()),
            "run_out": account_sudo._portal_run_out(),
            "available": account_sudo._portal_available(),
            "supply": account_sudo._portal_supply_summary(),
            "utilities": utilities,
            "utility_labels": dict(meters._fields["utility"]._description_selection(request.env)),
            "recharges": account_sudo.recharge_ids.filtered(lambda r: r.state == "done")[:5],
            "can_topup": account_sudo.state == "open" and not request.env.user._is_public(),
        }

    @http.route(
        "/my/prepaid/accounts/<int:account_id>/usage", type="json", auth="public", website=True
    )
    def portal_prepaid_account_usage(
        self, account_id, access_token=None, meter_id=None, utility=None
    ):
        """The account page's chart data (JSON), for one meter or one utility's meters."""
        account_sudo = self._prepaid_record("prepaid.account", account_id, access_token)
        meters = account_sudo._portal_meters()
        if meter_id:
            meters = meters.filtered(lambda meter: meter.id == meter_id)
            if not meters:
                raise NotFound()
        else:
            utility = utility or meters[:1].utility
            meters = meters.filtered(lambda meter: meter.utility == utility)
        if not meters:
            return {"empty": True}
        return chart_data(account_sudo, meters)

    # ------------------------------------------------------------------ meter and readings

    @http.route(
        ["/my/prepaid/meters/<int:meter_id>", "/my/prepaid/meters/<int:meter_id>/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_prepaid_meter(self, meter_id, page=1, **kwargs):
        meter_sudo = self._prepaid_record("prepaid.meter", meter_id)
        return self._prepaid_render_meter(meter_sudo, page)

    def _prepaid_render_meter(self, meter_sudo, page=1, switch_error=None, switch_done=None):
        Reading = request.env["prepaid.reading"]
        domain = self._prepaid_readings_domain(meter_sudo)
        pager = portal_pager(
            url=f"/my/prepaid/meters/{meter_sudo.id}",
            total=Reading.search_count(domain),
            page=page,
            step=READINGS_PER_PAGE,
        )
        readings = Reading.search(
            domain, order="timestamp desc, id desc", limit=READINGS_PER_PAGE, offset=pager["offset"]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "prepaid_meter",
                "meter": meter_sudo,
                "account": meter_sudo.account_id,
                "readings": readings.sudo(),
                "pager": pager,
                "show_bands": any(readings.mapped("has_bands")),
                "can_switch": meter_sudo._portal_can_switch(),
                "switch_error": switch_error,
                "switch_done": switch_done,
            }
        )
        return request.render("prepaid_energy_portal.portal_prepaid_meter_page", values)

    def _prepaid_readings_domain(self, meter_sudo):
        """The meter's readings while it billed the tenant's current account (the rules
        keep a portal user to their tenant's; this keeps the page to this account)."""
        return [
            ("meter_id", "=", meter_sudo.id),
            ("account_id", "=", meter_sudo.account_id.id),
            ("state", "!=", "rejected"),
        ]

    @http.route(
        "/my/prepaid/meters/<int:meter_id>/readings.csv", type="http", auth="user", website=True
    )
    def portal_prepaid_meter_readings_csv(self, meter_id, **kwargs):
        meter_sudo = self._prepaid_record("prepaid.meter", meter_id)
        readings = request.env["prepaid.reading"].search(
            self._prepaid_readings_domain(meter_sudo), order="timestamp, id"
        )
        account = meter_sudo.account_id
        zone = account._site_zone()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [f"time ({zone})", *REGISTERS, "consumption", "estimate", "source", "state"]
        )
        for reading in readings.sudo():
            with_bands = reading.has_bands
            writer.writerow(
                [
                    timezone.to_local(reading.timestamp, zone).isoformat(sep=" "),
                    *[
                        reading[register] if with_bands or register == "total" else ""
                        for register in REGISTERS
                    ],
                    reading.delta,
                    int(reading.is_estimate),
                    reading.source,
                    reading.state,
                ]
            )
        filename = f"readings-{meter_sudo.serial}.csv"
        return request.make_response(
            buffer.getvalue().encode("utf-8-sig"),
            headers=[
                ("Content-Type", "text/csv; charset=utf-8"),
                ("Content-Disposition", content_disposition(filename)),
            ],
        )

    # ------------------------------------------------------------------ receipts

    @http.route("/my/prepaid/recharges/<int:recharge_id>", type="http", auth="public", website=True)
    def portal_prepaid_recharge(
        self, recharge_id, access_token=None, report_type=None, download=False, **kwargs
    ):
        """The recharge's receipt (the tenant's copy), as PDF unless HTML is asked for."""
        recharge_sudo = self._prepaid_record("prepaid.recharge", recharge_id, access_token)
        if recharge_sudo.state != "done":
            raise NotFound()
        request.update_context(prepaid_receipt_copies=["tenant"])  # the report reads it
        return self._show_report(
            model=recharge_sudo,
            report_type=report_type if report_type in ("html", "pdf") else "pdf",
            report_ref="prepaid_energy.action_report_prepaid_recharge_receipt",
            download=download,
        )

    # ------------------------------------------------------------------ linking a login

    @http.route("/my/prepaid/link", type="http", auth="user", methods=["GET"], website=True)
    def portal_prepaid_link(self, **kwargs):
        return self._prepaid_render_link()

    @http.route("/my/prepaid/link", type="http", auth="user", methods=["POST"], website=True)
    def portal_prepaid_link_submit(self, lookup="", proof="", **kwargs):
        try:
            # a refusal leaves nothing half-written (a wrong proof is not a refusal: it
            # is recorded, to count towards the user's attempts)
            with request.env.cr.savepoint():
                binding = request.env["prepaid.portal.binding"]._portal_request(lookup, proof)
        except (UserError, AccessError) as error:
            return self._prepaid_render_link(error=error.args[0], lookup=lookup)
        if binding.state == "refused":
            return self._prepaid_render_link(
                error=request.env._(
                    "No open account matches this number and code. Check both on your latest "
                    "receipt."
                ),
                lookup=lookup,
            )
        return self._prepaid_render_link(success=True)

    def _prepaid_render_link(self, error=None, lookup="", success=False):
        values = self._prepare_portal_layout_values()
        Binding = request.env["prepaid.portal.binding"]
        values.update(
            {
                "page_name": "prepaid_link",
                "bindings": Binding.search([("state", "!=", "refused")]).sudo(),
                "error": error,
                "lookup": lookup,
                "success": success,
            }
        )
        return request.render("prepaid_energy_portal.portal_prepaid_link", values)

    # ------------------------------------------------------------------ notification settings

    @http.route(
        "/my/prepaid/notifications", type="http", auth="user", methods=["GET"], website=True
    )
    def portal_prepaid_notifications(self, **kwargs):
        return self._prepaid_render_notifications()

    @http.route(
        "/my/prepaid/notifications", type="http", auth="user", methods=["POST"], website=True
    )
    def portal_prepaid_notifications_submit(self, **post):
        tenant = request.env.user.partner_id.commercial_partner_id
        Preference = request.env["prepaid.notification.preference"]
        try:
            with request.env.cr.savepoint():  # refused: nothing written
                vals = self._prepaid_preference_vals(post, tenant)
                preference = Preference._for_tenant(tenant)
                if preference.id:
                    preference.write(vals)
                else:
                    Preference.create({"partner_id": tenant.id, **vals})
        except (UserError, ValidationError, AccessError) as error:
            return self._prepaid_render_notifications(error=error.args[0])
        return self._prepaid_render_notifications(saved=True)

    def _prepaid_preference_vals(self, post, tenant):
        vals = {
            "email_enabled": bool(post.get("email_enabled")),
            "sms_enabled": bool(post.get("sms_enabled")),
        }
        for event in selfservice.EVENTS:
            vals[f"event_{event}"] = bool(post.get(f"event_{event}"))
        for name in ("quiet_hour_start", "quiet_hour_end"):
            vals[name] = self._prepaid_parse_hour(post.get(name))
        contacts = self._prepaid_tenant_contacts(tenant)
        chosen = set()
        for value in request.httprequest.form.getlist("recipient_ids"):
            try:
                chosen.add(int(value))
            except ValueError:
                continue
        unknown = chosen - set(contacts.ids)
        if unknown:
            raise ValidationError(request.env._("Choose recipients among your own contacts."))
        vals["recipient_ids"] = [Command.set(sorted(chosen))]
        return vals

    @staticmethod
    def _prepaid_parse_hour(text):
        try:
            moment = datetime.datetime.strptime((text or "").strip(), "%H:%M")
        except ValueError:
            raise ValidationError(
                request.env._("Give quiet hours as HH:MM, for example 22:00.")
            ) from None
        return moment.hour + moment.minute / 60

    @staticmethod
    def _prepaid_tenant_contacts(tenant):
        """The tenant and its contacts: who notifications may go to."""
        # read as superuser: a portal user does not read their colleagues' records
        return (
            request.env["res.partner"]
            .sudo()
            .search([("commercial_partner_id", "=", tenant.id), ("type", "=", "contact")])
        )

    def _prepaid_render_notifications(self, error=None, saved=False):
        user = request.env.user
        tenant = user.partner_id.commercial_partner_id
        Preference = request.env["prepaid.notification.preference"]
        preference = Preference._for_tenant(tenant)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "prepaid_notifications",
                "preference": preference.sudo(),
                "tenant": tenant,
                "may_manage": tenant.sudo()._prepaid_may_manage(user.partner_id),
                "contacts": self._prepaid_tenant_contacts(tenant),
                "events": selfservice.EVENTS,
                "event_labels": {
                    event: Preference._fields[f"event_{event}"]._description_string(request.env)
                    for event in selfservice.EVENTS
                },
                "error": error,
                "saved": saved,
                "format_hour": self._prepaid_format_hour,
            }
        )
        return request.render("prepaid_energy_portal.portal_prepaid_notifications", values)

    @staticmethod
    def _prepaid_format_hour(hours):
        time = selfservice.hours_to_time(hours or 0.0)
        return f"{time.hour:02d}:{time.minute:02d}"

    # ------------------------------------------------------------------ remote switch

    @http.route(
        "/my/prepaid/meters/<int:meter_id>/switch",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_prepaid_meter_switch(self, meter_id, switch_action=None, **kwargs):
        meter_sudo = self._prepaid_record("prepaid.meter", meter_id)
        meter = meter_sudo.with_env(request.env)  # access checked: act as the tenant
        if switch_action not in selfservice.SWITCH_ACTIONS:
            raise NotFound()
        try:
            with request.env.cr.savepoint():  # refused: nothing queued, nothing logged
                message = meter._portal_switch(switch_action)
        except (UserError, AccessError) as error:
            return self._prepaid_render_meter(meter_sudo, switch_error=error.args[0])
        return self._prepaid_render_meter(meter_sudo, switch_done=message)
