#!/usr/bin/env bash
# The project's one test command (`make test`). On a fresh machine it creates
# .venv, installs prepaid_energy_core with its dev extra, then runs:
#   ruff, pytest on tests/, pylint-odoo on the addons, an XML parse check,
#   the addons' Odoo tests and the end-to-end check (scripts/e2e.sh) when an
#   Odoo 18 is on the machine.
# `scripts/test.sh STAGE` runs one stage: lint | pytest | odoo | e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stage=${1:-all}
venv=${VENV:-$root/.venv}

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        echo "== creating $venv"
        "${PYTHON:-python3}" -m venv "$venv"
    fi
    # Reinstall whenever pyproject.toml changes.
    local stamp="$venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        echo "== installing prepaid_energy_core[dev] into $venv"
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q -e ".[dev]"
        touch "$stamp"
    fi
}

addons() {
    local manifest
    for manifest in prepaid_energy*/__manifest__.py; do
        if [ -f "$manifest" ]; then dirname "$manifest"; fi
    done
}

run_lint() {
    echo "== ruff"
    "$venv/bin/ruff" check .
    "$venv/bin/ruff" format --check .
    echo "== xml"
    "$venv/bin/python" scripts/check_xml.py
    echo "== addon READMEs"
    "$venv/bin/python" scripts/gen_addon_readme.py --check
    local mods
    mods=$(addons | tr '\n' ' ')
    if [ -n "$mods" ]; then
        echo "== pylint-odoo ($mods)"
        # shellcheck disable=SC2086
        "$venv/bin/pylint" --rcfile=.pylintrc $mods
    else
        echo "== pylint-odoo: no addon yet"
    fi
}

# The addons' Odoo tests in one database; the demo addon in a database of its
# own, since its data (a company in China, three months of readings) must never
# be what another addon's tests stand on.
run_odoo() {
    local product=() demo=() mod
    for mod in $(addons); do
        if [ "$mod" = prepaid_energy_demo ]; then demo+=("$mod"); else product+=("$mod"); fi
    done
    bash scripts/odoo_tests.sh "${product[@]}"
    if [ ${#demo[@]} -gt 0 ]; then bash scripts/odoo_tests.sh "${demo[@]}"; fi
}

run_pytest() {
    echo "== pytest"
    "$venv/bin/pytest" tests
}

case "$stage" in
    lint) ensure_venv; run_lint ;;
    pytest) ensure_venv; run_pytest ;;
    odoo) run_odoo ;;
    e2e) bash scripts/e2e.sh ;;
    all)
        ensure_venv
        run_lint
        run_pytest
        run_odoo
        bash scripts/e2e.sh
        ;;
    *) echo "usage: scripts/test.sh [lint|pytest|odoo|e2e]" >&2; exit 2 ;;
esac
