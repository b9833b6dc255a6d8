from odoo import api, models

#: invoice line quantities keep the metered kWh / m³ to the Wh (litre)
INVOICE_QUANTITY_DIGITS = 3


class DecimalPrecision(models.Model):
    _inherit = "decimal.precision"

    @api.model
    def _prepaid_raise_invoice_digits(self):
        """Let invoice lines carry what the wallet was charged for, never lower a precision.

        ``account.move.line.quantity`` uses 'Product Unit of Measure' and
        ``price_unit`` 'Product Price' (2 decimals each by default): 61.8221 kWh
        would be invoiced as 61.82 and 0.6125 a kWh as 0.61, the lines then
        differing from the priced charges by more than currency rounding.
        Raised to 3 decimals and to the tariff price's digits (4) when lower.
        """
        tariff_digits = self.precision_get("Prepaid Tariff Price")
        for xmlid, digits in (
            ("product.decimal_product_uom", INVOICE_QUANTITY_DIGITS),
            ("product.decimal_price", tariff_digits),
        ):
            precision = self.env.ref(xmlid, raise_if_not_found=False)
            if precision and precision.digits < digits:
                precision.digits = digits
