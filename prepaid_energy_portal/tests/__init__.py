from . import test_portal_pages
from . import test_portal_idor
from . import test_portal_forms
from . import test_portal_notifications
