from . import prepaid_gateway_scan_wizard
from . import prepaid_gateway_scan_line
