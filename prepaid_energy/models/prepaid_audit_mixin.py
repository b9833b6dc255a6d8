from odoo import api, models

#: field types whose old and new values are shown as they are
PLAIN_TYPES = ("char", "integer", "float", "monetary", "boolean", "date", "datetime", "text")


class PrepaidAuditMixin(models.AbstractModel):
    """Log creations, changes and deletions of a model's audited fields.

    A model adds it to its ``_inherit`` and says what is audited:
    ``_audit_action`` (the log's action) and ``_audit_fields`` (the field names
    worth a line; empty: every stored field but the technical ones). Changes
    made by the system without a user (crons) are logged too, as the cron's user.
    """

    _name = "prepaid.audit.mixin"
    _description = "Audited changes"

    _audit_action = "setting_change"
    _audit_fields = ()
    #: log creations too (False: only changes and deletions, for models created in bulk)
    _audit_on_create = True

    def _audited_fnames(self, fnames):
        if self._audit_fields:
            return [fname for fname in self._audit_fields if fname in fnames]
        return [
            fname
            for fname in fnames
            if fname in self._fields
            and self._fields[fname].store
            and not self._fields[fname].compute
            and fname not in models.MAGIC_COLUMNS
            and self._fields[fname].type not in ("one2many", "many2many", "binary", "json")
        ]

    def _audit_value(self, fname):
        """The value of ``fname`` as a person reads it."""
        self.ensure_one()
        field = self._fields[fname]
        value = self[fname]
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value or "")
        if field.type == "many2one":
            return value.display_name or ""
        if field.type in PLAIN_TYPES:
            return "" if value is False and field.type != "boolean" else str(value)
        return str(value)

    def _audit_account(self):
        """The prepaid account an entry concerns (none by default)."""
        return self.env["prepaid.account"]

    def _audit_log_records(self, description, changes=None):
        if not self:
            return
        self.env["prepaid.audit.log"]._log(
            self._audit_action,
            self,
            description,
            changes=changes,
            account=lambda record: record._audit_account(),
        )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if not self._audit_on_create:
            return records
        fnames = self._audited_fnames(set().union(*vals_list)) if vals_list else []
        changes = {
            record.id: "\n".join(
                f"{record._fields[fname].string}: {record._audit_value(fname)}" for fname in fnames
            )
            for record in records
        }
        records._audit_log_records(self.env._("Created"), changes)
        return records

    def write(self, vals):
        fnames = self._audited_fnames(vals)
        if not fnames:
            return super().write(vals)
        before = {record.id: {f: record._audit_value(f) for f in fnames} for record in self}
        result = super().write(vals)
        changes = {}
        for record in self:
            lines = []
            for fname in fnames:
                new = record._audit_value(fname)
                if new != before[record.id][fname]:
                    label = record._fields[fname].string
                    lines.append(f"{label}: {before[record.id][fname]} -> {new}")
            if lines:
                changes[record.id] = "\n".join(lines)
        changed = self.filtered(lambda record: record.id in changes)
        changed._audit_log_records(self.env._("Changed"), changes)
        return result

    def unlink(self):
        self._audit_log_records(self.env._("Deleted"))
        return super().unlink()
