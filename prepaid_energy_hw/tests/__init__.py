from . import test_hw_batch
from . import test_hw_board_tour
from . import test_hw_cycle
from . import test_hw_durability
from . import test_hw_faults
from . import test_hw_fee_trip
from . import test_hw_meter_billing
from . import test_hw_command_audit
