import base64

from odoo import fields, models


class PrepaidXlsxDownloadMixin(models.AbstractModel):
    """A wizard that builds an Excel file and hands it to the browser.

    The wizard implements ``_build_file()`` returning ``(file name, bytes)``.
    """

    _name = "prepaid.xlsx.download.mixin"
    _description = "Excel file of a report wizard"

    file_data = fields.Binary(string="File", readonly=True, attachment=False)
    file_name = fields.Char(readonly=True)

    def _build_file(self):
        raise NotImplementedError

    def action_export(self):
        self.ensure_one()
        name, data = self._build_file()
        self.write({"file_data": base64.b64encode(data), "file_name": name})
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/file_data/{name}?download=true",
            "target": "self",
        }
