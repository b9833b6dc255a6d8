"""Build the core policy's inputs from meters, accounts and sites, once per site.

A read cycle decides for thousands of meters of a few sites: everything a site
shares (thresholds, quiet hours, no-cut days, supply schedules, its clock) is
built once here; only balance, relay and the meter's own memory are per meter.
"""

import datetime
from decimal import Decimal

from odoo.addons.prepaid_energy.tools.timezone import to_local, zone_name

from prepaid_energy_core import policy, supply, wallet


def _float_time(hours):
    minutes = round((hours or 0.0) * 60) % (24 * 60)
    return datetime.time(minutes // 60, minutes % 60)


class SiteFacts:
    """What the policy needs of one site at one moment (``now``: naive UTC)."""

    def __init__(self, site, company, now, schedules):
        self.site = site
        self.zone = zone_name(site, company)
        self.local_now = to_local(now, self.zone)
        start, end = site.quiet_hour_start or 0.0, site.quiet_hour_end or 0.0
        self.quiet_hours = () if start == end else ((_float_time(start), _float_time(end)),)
        calendar = site.no_cut_calendar_id
        today = self.local_now.date()
        self.no_cut_dates = frozenset(
            day.date
            for day in calendar.holiday_ids
            if day.kind == "holiday" and abs((day.date - today).days) <= 1
        )
        self.no_cut_weekends = bool(site.no_cut_weekends)
        self.grace = datetime.timedelta(hours=site.grace_hours or 0.0)
        self.reconnect_after = datetime.timedelta(minutes=site.overload_reconnect_minutes or 0)
        self.max_reconnects = max(site.overload_max_reconnects or 0, 0)
        self.schedules = schedules
        self.interval = datetime.timedelta(minutes=site.reading_interval or 15)

    def local(self, utc_moment):
        if not utc_moment:
            return None
        return min(to_local(utc_moment, self.zone), self.local_now)

    def supply_for(self, location):
        """``(on, schedule name)`` for a meter at ``location`` (None: no location)."""
        if not location or not self.schedules:
            return True, None
        chain = {int(part) for part in (location.parent_path or "").split("/") if part}
        chain.add(location.id)
        applying = [schedule for schedule, places in self.schedules if places & chain]
        on, schedule = supply.supply_on(applying, self.local_now)
        return on, schedule.name if schedule else None


class PolicyContext:
    """Per-run caches: site facts, wallet thresholds and credit per account, and which
    accounts of the run's ``meters`` have fees that trip their meters."""

    def __init__(self, env, now, meters):
        self.env = env
        self.now = now
        self.sites = {}
        self.thresholds = {}
        self._schedules = None
        # computed for the run's accounts at once: one search of open fee invoices
        self._fees_due = set(meters.account_id.filtered("fee_disconnection_due").ids)

    def fees_overdue(self, account):
        return account.id in self._fees_due

    def site_facts(self, meter):
        site = meter.site_id
        key = (site.id, meter.company_id.id)
        if key not in self.sites:
            if self._schedules is None:
                self._schedules = self.env["prepaid.supply.schedule"]._schedules_by_location(
                    self.now.date()
                )
            self.sites[key] = SiteFacts(site, meter.company_id, self.now, self._schedules)
        return self.sites[key]

    def wallet_thresholds(self, account):
        key = (account.site_id.id, account.company_id.id)
        if key not in self.thresholds:
            self.thresholds[key] = account._get_wallet_thresholds()
        return self.thresholds[key]

    def inputs(self, meter, facts):
        """``(PolicyInputs, balance, thresholds, credit)`` of one meter."""
        account = meter.account_id
        thresholds = self.wallet_thresholds(account)
        credit = account._get_wallet_credit()
        balance = Decimal(str(account.balance or 0.0))
        partner = account.partner_id
        protected = bool(
            partner.is_protected_tenant or partner.commercial_partner_id.is_protected_tenant
        )
        relay = {"closed": policy.RELAY_CLOSED, "open": policy.RELAY_OPEN}.get(
            meter.relay_state, policy.RELAY_UNKNOWN
        )
        trips = tuple(
            when
            for when in (
                datetime.datetime.fromisoformat(text) for text in (meter.overload_trips or [])
            )
            if when <= facts.local_now
        )
        open_reason = supply.policy_open_reason(meter.relay_open_reason or None)
        if open_reason == policy.OPEN_OVERLOAD and not trips:
            open_reason = None  # the trip time was forgotten: staff decide
        inputs = policy.PolicyInputs(
            balance=balance,
            thresholds=thresholds,
            now=facts.local_now,
            relay=relay,
            open_reason=open_reason,
            credit=credit,
            keep_power=bool(meter.keep_power),
            protected_tenant=protected,
            quiet_hours=facts.quiet_hours,
            no_cut_dates=facts.no_cut_dates,
            no_cut_weekends=facts.no_cut_weekends,
            arrears_since=facts.local(meter.arrears_since),
            grace_period=facts.grace,
            overload_trips=trips,
            overload_reconnect_after=facts.reconnect_after,
            overload_max_reconnects_per_day=facts.max_reconnects,
            fees_overdue=self.fees_overdue(account),
        )
        in_arrears = wallet.is_in_arrears(balance, thresholds, credit)
        return inputs, in_arrears
