from . import test_portal_topup
