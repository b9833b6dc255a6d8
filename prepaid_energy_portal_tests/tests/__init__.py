from . import test_portal_topup
from . import test_portal_topup_concurrency
from . import test_portal_tour
from . import test_portal_topup_relay
