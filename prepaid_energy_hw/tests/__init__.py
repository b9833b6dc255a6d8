from . import test_hw_cycle
