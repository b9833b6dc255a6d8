"""prepaid_energy_core must never import Odoo: it is tested and used without it."""

import ast
import pathlib
import subprocess
import sys

import prepaid_energy_core

PACKAGE_DIR = pathlib.Path(prepaid_energy_core.__file__).parent


def _module_files():
    return sorted(PACKAGE_DIR.rglob("*.py"))


def _imported_top_levels(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def test_no_source_file_imports_odoo():
    offenders = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{line}"
        for path in _module_files()
        for name, line in _imported_top_levels(path)
        if name == "odoo"
    ]
    assert len(_module_files()) > 5
    assert offenders == []


BLOCKER = """
import importlib, pkgutil, sys

class NoOdoo:
    def find_spec(self, name, path=None, target=None):
        if name == "odoo" or name.startswith("odoo."):
            raise ImportError("prepaid_energy_core imported " + name)

sys.meta_path.insert(0, NoOdoo())
import prepaid_energy_core
names = [m.name for m in pkgutil.walk_packages(prepaid_energy_core.__path__, "prepaid_energy_core.")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
assert not any(m == "odoo" or m.startswith("odoo.") for m in sys.modules)
print(len(names))
"""


def test_every_module_imports_with_odoo_blocked():
    # A fresh interpreter, so nothing imported by other tests can hide an import.
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 5
