# property side
from . import prepaid_reading_import

# money side
from . import prepaid_channel_mixin
from . import prepaid_account_open_wizard
from . import prepaid_account_meter_line
from . import prepaid_recharge_wizard
from . import prepaid_account_close_wizard
from . import prepaid_meter_replace_wizard
from . import prepaid_invoice_wizard
from . import prepaid_fee_preview_wizard
from . import prepaid_xlsx_download_mixin
from . import prepaid_report_export
from . import prepaid_trend_wizard
from . import prepaid_statement_wizard
