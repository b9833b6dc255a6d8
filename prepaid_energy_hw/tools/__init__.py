from . import bulk_update
from . import policy_inputs
