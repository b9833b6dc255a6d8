from . import test_portal_hw
