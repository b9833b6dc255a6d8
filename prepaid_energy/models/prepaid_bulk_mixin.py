from odoo import api, models

from ..tools import bulk


class PrepaidBulkMixin(models.AbstractModel):
    """Bulk create and write for the rows of a reading cycle (see ``tools/bulk.py``).

    Readings, charges, ledger lines and meters written by a cycle go through
    these methods instead of ``create`` / ``write``: override them to act on
    those rows.
    """

    _name = "prepaid.bulk.mixin"
    _description = "Bulk writes of a reading cycle"

    @api.model
    def _bulk_create(self, vals_list):
        """Create records from ``vals_list`` as ``create`` would, one INSERT per chunk."""
        return bulk.create(self, vals_list)

    def _bulk_write(self, fnames, rows):
        """Write ``rows`` (``(id, value, ...)`` in the order of ``fnames``) to these records,
        as ``write`` would, one UPDATE per chunk."""
        bulk.write(self, fnames, rows)

    def _bulk_write_same(self, vals):
        """Write the same ``vals`` to these records in one UPDATE."""
        bulk.write_same(self, vals)
