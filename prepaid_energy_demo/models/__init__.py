from . import prepaid_demo_loader
from . import prepaid_demo_loader_billing
