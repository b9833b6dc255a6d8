"""The core's modules follow the layer order of prepaid_energy_core/layers.py.

Every module's imports are read from its source (the AST: module-level and
function-level imports alike, relative or absolute); an import of a module
of a higher layer fails, and so does a module that no layer lists.
"""

import ast
import pathlib

import prepaid_energy_core
from prepaid_energy_core.layers import LAYERS, layer_of

PACKAGE_DIR = pathlib.Path(prepaid_energy_core.__file__).parent
PACKAGE = "prepaid_energy_core"
ROOT = "__init__"  # how LAYERS names the package's own __init__.py


def core_modules():
    """{module name relative to the package: path} of every .py file of the core."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1] or (ROOT,)
        found[".".join(parts)] = path
    return found


def _exists(name):
    path = PACKAGE_DIR.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _package_of(name, path):
    """The package a module's relative imports start from (relative name, "" = root)."""
    if path.name == "__init__.py":
        return "" if name == ROOT else name
    return name.rpartition(".")[0]


def _relative(absolute):
    """``prepaid_energy_core.x.y`` -> ``x.y`` (None for other packages, ROOT for the root)."""
    if absolute == PACKAGE:
        return ROOT
    if absolute.startswith(PACKAGE + "."):
        return absolute[len(PACKAGE) + 1 :]
    return None


def imports_of(name, path):
    """The core modules ``name`` imports (relative names), each once, in source order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [_relative(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, path).split(".") if _package_of(name, path) else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = _relative(node.module or "")
                if module is None:
                    continue
                module = "" if module == ROOT else module
            for alias in node.names:
                # "from . import poller" / "from .protocols import dlt645" import modules
                candidate = f"{module}.{alias.name}" if module else alias.name
                if _exists(candidate):
                    found.append(candidate)
                else:
                    found.append(module or ROOT)
    return list(dict.fromkeys(item for item in found if item))


def test_every_core_module_is_in_a_layer():
    unlisted = [name for name in core_modules() if layer_of(name) is None]
    assert not unlisted, (
        f"modules in no layer: {unlisted}; add each to LAYERS in "
        "prepaid_energy_core/layers.py (the lowest layer holding all it imports)"
    )


def test_no_module_imports_a_higher_layer():
    upward = []
    for name, path in core_modules().items():
        own = layer_of(name)
        for target in imports_of(name, path):
            theirs = layer_of(target)
            assert theirs is not None, f"{name} imports {target}, which is in no layer"
            if theirs <= own:
                continue
            upward.append(f"{name} ({LAYERS[own][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def test_the_vocabulary_imports_nothing_at_all():
    tree = ast.parse((PACKAGE_DIR / "vocabulary.py").read_text(encoding="utf-8"))
    assert not [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imports_of("layers", PACKAGE_DIR / "layers.py") == []
    assert imports_of(ROOT, PACKAGE_DIR / "__init__.py") == []


def test_each_layer_entry_exists_and_is_listed_once():
    entries = [entry for _name, layer in LAYERS for entry in layer]
    assert len(entries) == len(set(entries))
    assert [entry for entry in entries if entry != ROOT and not _exists(entry)] == []


def test_the_import_reader_resolves_what_the_modules_write():
    # the readers the layer test relies on, on files whose imports are known
    modules = core_modules()
    assert imports_of("drivers.modbus", modules["drivers.modbus"]) == [
        "errors",
        "money",
        "protocols.modbus",
        "register_maps",
        "vocabulary",
        "drivers.base",
    ]
    cli = imports_of("cli", modules["cli"])  # function-level imports count too
    assert {"poller", "transports.serial", "drivers.dlt645", "register_maps"} <= set(cli)
    assert layer_of("protocols.dlt645") == layer_of("protocols") < layer_of("drivers.base")
    assert layer_of("nonexistent") is None


def test_drivers_base_still_offers_the_words_it_used_to_define():
    # the addon imported TOU_BANDS (and relay actions) from drivers.base before the
    # vocabulary existed; they stay there, the very same objects, until it moves
    from prepaid_energy_core import vocabulary
    from prepaid_energy_core.drivers import base

    for name in ("TOU_BANDS", "RELAY_ACTIONS", "RELAY_TRIP", "RELAY_CLOSE", "RELAY_CLOSE_ALLOWED"):
        assert getattr(base, name) is getattr(vocabulary, name)
    assert base.RELAY_KEEP_POWER_ON is vocabulary.RELAY_KEEP_POWER_ON
    assert base.RELAY_KEEP_POWER_OFF is vocabulary.RELAY_KEEP_POWER_OFF
