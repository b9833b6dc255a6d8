# property side
from . import decimal_precision
from . import prepaid_bulk_mixin
from . import prepaid_holiday_calendar
from . import prepaid_holiday
from . import prepaid_tariff
from . import prepaid_tariff_version
from . import prepaid_tariff_line_mixin
from . import prepaid_tariff_season
from . import prepaid_tariff_period
from . import prepaid_tariff_price
from . import prepaid_tariff_tier
from . import prepaid_location
from . import prepaid_occupancy
from . import prepaid_meter
from . import prepaid_reading
from . import prepaid_charge
from . import res_partner

# money side
from . import prepaid_account
from . import prepaid_account_invoicing
from . import prepaid_ledger_line
from . import prepaid_recharge
from . import prepaid_account_closing
from . import prepaid_integrity_report
from . import account_journal
from . import account_payment
from . import account_move
from . import account_move_line

# fees, common areas, cash desks, audit and reports
from . import prepaid_audit_log
from . import prepaid_audit_mixin
from . import prepaid_tariff_audit
from . import prepaid_meter_audit
from . import prepaid_location_fees
from . import prepaid_fee_scheme
from . import prepaid_fee_subscription
from . import prepaid_fee_charge
from . import prepaid_account_tenancy
from . import account_move_fees
from . import prepaid_apportionment_rule
from . import prepaid_apportionment_rule_line
from . import prepaid_apportionment_run
from . import prepaid_apportionment_share
from . import prepaid_master_bill
from . import prepaid_cashier_shift
from . import prepaid_cashier_shift_line
from . import prepaid_recharge_fees
from . import prepaid_alarm_event
from . import prepaid_account_closing_report
from . import prepaid_sales_report
from . import prepaid_income_report
from . import prepaid_energy_report
from . import report_prepaid_statement
