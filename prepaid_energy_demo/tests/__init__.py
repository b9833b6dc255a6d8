from . import test_demo
from . import test_demo_tours
