# property side
from . import test_property_location
from . import test_property_occupancy
from . import test_property_meter
from . import test_property_import
from . import test_tariff_records
from . import test_tariff_company_and_form
from . import test_reading_ingest
from . import test_reading_import
from . import test_billing_pricing

# money side
from . import test_cashier_flow
from . import test_cashier_rules
from . import test_cashier_first_use
from . import test_accounting_invoice
from . import test_accounting_cutoff
from . import test_accounting_precision
from . import test_accounting_access
from . import test_accounting_chart_cn
from . import test_money_lifecycle
from . import test_money_alarms
from . import test_money_multicompany
from . import test_concurrency_wallet
from . import test_core_error_bridge
from . import test_tour_first_use
from . import test_bulk_writes

# fees, common areas, cash desks, audit and reports
from . import test_fee_schemes
from . import test_apportionment
from . import test_cashier_shift
from . import test_audit_log
from . import test_report_exports
from . import test_tour_fee_scheme
from . import test_concurrency_fees
