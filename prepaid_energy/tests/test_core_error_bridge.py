"""The one bridge from core errors to Odoo errors: right class, translated from the code."""

import re

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import code_translations

from prepaid_energy_core import errors as core_errors
from prepaid_energy_core import wallet

from ..tools.core_errors import TEMPLATES, raise_as_odoo, translate_core_error

PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")


@tagged("post_install", "-at_install")
class TestCoreErrorBridge(TransactionCase):
    def _french(self, translations):
        """Serve ``translations`` ({English: French}) as the addon's French code terms."""
        self.env["res.lang"]._activate_lang("fr_FR")
        key = ("prepaid_energy", "fr_FR")
        previous = code_translations.python_translations.get(key)
        code_translations.python_translations[key] = translations
        self.addCleanup(
            lambda: (
                code_translations.python_translations.pop(key, None)
                if previous is None
                else code_translations.python_translations.__setitem__(key, previous)
            )
        )
        return self.env(context={"lang": "fr_FR"})

    def test_every_core_code_has_a_template_with_the_same_placeholders(self):
        self.assertEqual(set(TEMPLATES), set(core_errors.MESSAGES))
        for code, message in core_errors.MESSAGES.items():
            with self.subTest(code=code):
                template = self.env._(TEMPLATES[code])  # en_US: the source text
                self.assertEqual(template, message)
                self.assertEqual(
                    set(PLACEHOLDER.findall(template)), set(PLACEHOLDER.findall(message))
                )

    def test_a_core_validation_error_becomes_a_translated_validation_error(self):
        env = self._french(
            {
                "a %(kind)s line must be negative, got %(amount)s": (
                    "une ligne %(kind)s doit être négative, reçu %(amount)s"
                ),
                "ledger line %(position)s: %(error)s": "ligne %(position)s : %(error)s",
                "%(where)s: %(error)s": "%(where)s : %(error)s",
            }
        )
        with self.assertRaises(ValidationError) as caught, raise_as_odoo(env, where="Compte A"):
            wallet.balance([("recharge", "10"), ("fee", "3")])
        # the wrapped error is translated too
        self.assertEqual(
            caught.exception.args[0],
            "Compte A : ligne 1 : une ligne fee doit être négative, reçu 3",
        )

    def test_a_broken_translation_falls_back_to_english(self):
        env = self._french({"a recharge must be positive, got %(amount)s": "recharge %(montant)s"})
        error = core_errors.ValidationError.of("wallet.recharge_not_positive", amount=-1)
        self.assertEqual(translate_core_error(env, error), "a recharge must be positive, got -1")

    def test_other_core_errors_become_user_errors_and_keep_their_text(self):
        with self.assertRaises(UserError) as caught, raise_as_odoo(self.env):
            raise core_errors.MeterRefused("relay refused: keep-power is on", code=0x04)
        self.assertNotIsInstance(caught.exception, ValidationError)
        self.assertEqual(caught.exception.args[0], "relay refused: keep-power is on (code 4)")
        uncoded = "no code: as it was written"  # a core error without a code
        with self.assertRaises(ValidationError) as caught, raise_as_odoo(self.env):
            raise core_errors.ValidationError(uncoded)
        self.assertEqual(caught.exception.args[0], uncoded)

    def test_the_same_core_error_is_the_same_odoo_error_everywhere(self):
        # before, an emergency credit refused by the core was a UserError here while the
        # same kind of error was a ValidationError on a site or a tariff
        partner = self.env["res.partner"].create({"name": "Bridge Tenant"})
        account = self.env["prepaid.account"].create({"partner_id": partner.id})
        account.state = "open"
        with self.assertRaisesRegex(ValidationError, "no emergency credit is offered"):
            account.action_activate_emergency_credit()
        with self.assertRaisesRegex(ValidationError, r"^Site Bad Order: thresholds must satisfy"):
            self.env["prepaid.location"].create(
                {
                    "name": "Bad Order",
                    "location_type": "site",
                    "alarm1_amount": 10.0,
                    "alarm2_amount": 20.0,
                }
            )
