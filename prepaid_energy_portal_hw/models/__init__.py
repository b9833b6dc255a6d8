from . import prepaid_meter_command
from . import prepaid_meter
