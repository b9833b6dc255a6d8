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
