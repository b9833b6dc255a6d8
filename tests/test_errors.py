"""Stable error codes: every coded error names a template and fills exactly its placeholders."""

import ast
import pathlib
import re
from decimal import Decimal

import pytest

import prepaid_energy_core
from prepaid_energy_core import apportion, errors, wallet
from prepaid_energy_core.errors import MESSAGES, MeterRefused, ValidationError

PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")
CORE = pathlib.Path(prepaid_energy_core.__file__).parent


def placeholders(template):
    return set(PLACEHOLDER.findall(template))


def coded_raise_sites():
    """Every ``X.of("code", name=...)`` call in the core: (file, line, code, keyword names)."""
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "of"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = {keyword.arg for keyword in node.keywords}
                yield path.name, node.lineno, node.args[0].value, names


def test_codes_are_dotted_and_templates_use_named_placeholders_only():
    for code, template in MESSAGES.items():
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", code), code
        # no positional or unnamed % directive: a translator must see every name
        assert not re.search(r"%[^(%]", template.replace("%%", "")), (code, template)


def test_every_raise_site_names_a_known_code_with_exactly_its_placeholders():
    sites = list(coded_raise_sites())
    assert len(sites) >= len(MESSAGES)  # some codes are raised from two places
    used = set()
    for filename, line, code, names in sites:
        assert code in MESSAGES, f"{filename}:{line} raises unknown code {code!r}"
        assert names == placeholders(MESSAGES[code]), f"{filename}:{line} {code}"
        used.add(code)
    assert used == set(MESSAGES), f"codes never raised: {sorted(set(MESSAGES) - used)}"


def test_a_coded_error_reads_as_before_and_carries_code_and_params():
    with pytest.raises(ValidationError) as caught:
        wallet.check_sign("recharge", Decimal("-5"))
    error = caught.value
    assert str(error) == "a recharge line must be positive, got -5"
    assert error.code == "ledger.must_be_positive"
    assert error.params == {"kind": "recharge", "amount": Decimal("-5")}
    assert isinstance(error, ValueError)  # callers catching ValueError still do


def test_a_wrapped_error_keeps_the_inner_error_as_a_param():
    with pytest.raises(ValidationError) as caught:
        wallet.balance([("recharge", "10"), ("fee", "3")])
    error = caught.value
    assert error.code == "ledger.line_error"
    assert str(error) == "ledger line 1: a fee line must be negative, got 3"
    inner = error.params["error"]
    assert (inner.code, inner.params) == ("ledger.must_be_negative", {"kind": "fee", "amount": 3})


def test_repr_placeholders_quote_like_the_old_messages():
    with pytest.raises(ValidationError, match=r"^unknown apportionment method 'size'; expected"):
        apportion.apportion(Decimal("1"), {"a": 1}, "size")


def test_uncoded_errors_keep_no_code():
    error = ValidationError("free text")
    assert (error.code, dict(error.params), str(error)) == (None, {}, "free text")
    with pytest.raises(TypeError):
        error.params["x"] = 1  # the shared empty params cannot be written by accident


def test_meter_refused_keeps_the_protocol_code():
    error = MeterRefused("bad password", code=0x04)
    assert error.code == 0x04
    assert error.code not in MESSAGES
    assert str(error) == "bad password (code 4)"
    assert errors.PrepaidEnergyError.code is None
