from . import prepaid_demo_loader
