# Shared by scripts/odoo_tests.sh and scripts/e2e.sh (sourced from the
# repository root): find an Odoo 18 and its interpreter, put this clone's
# prepaid_energy_core in front of it, and make sure a PostgreSQL answers.
#
# Environment: ODOO_BIN=/path/to/odoo-bin (else an `odoo` command on PATH),
# ODOO_PYTHON (default: odoo-bin's shebang), ODOO_ADDONS_PATH (Odoo's own
# addons; default: found next to ODOO_BIN), ODOO_DB_ARGS (extra database
# options such as --db_host).

# odoo_find LABEL WHAT: set odoo_bin, odoo_python and odoo_version; without an
# Odoo 18 print "LABEL SKIPPED: ...; WHAT did not run" and return 1.
odoo_find() {
    local label=$1 what=$2 shebang
    odoo_bin=${ODOO_BIN:-$(command -v odoo || true)}
    if [ -z "$odoo_bin" ]; then
        echo "$label SKIPPED: no Odoo 18 on this machine (neither ODOO_BIN nor an odoo command);" \
             "$what did not run"
        return 1
    fi
    odoo_python=${ODOO_PYTHON:-}
    if [ -z "$odoo_python" ]; then
        shebang=$(head -n 1 "$odoo_bin")
        case "$shebang" in
            '#!/usr/bin/env '*) odoo_python=${shebang#\#!/usr/bin/env } ;;
            '#!'*python*) odoo_python=${shebang#\#!} ;;
            *) odoo_python=python3 ;;
        esac
    fi
    odoo_version=$("$odoo_python" "$odoo_bin" --version 2>/dev/null || true)
    case "$odoo_version" in
        *" 18.0"*) ;;
        *)
            echo "$label SKIPPED: $odoo_bin answers '${odoo_version:-nothing}', not Odoo 18;" \
                 "$what did not run"
            return 1
            ;;
    esac
}

# odoo_prepare ROOT: this clone's prepaid_energy_core first on PYTHONPATH, its
# dependencies in Odoo's interpreter (the addons declare them in
# external_dependencies); set addons_path to Odoo's addons and ROOT.
odoo_prepare() {
    local root=$1 odoo_dir candidate
    export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
    if ! "$odoo_python" -c "import pymodbus, serial, Crypto, xlsxwriter" 2>/dev/null; then
        echo "== installing prepaid_energy_core's dependencies into $odoo_python"
        "$odoo_python" -m pip install -q "$root"
    fi
    if [ -z "${ODOO_ADDONS_PATH:-}" ]; then
        odoo_dir=$(cd "$(dirname "$(readlink -f "$odoo_bin")")" && pwd)
        for candidate in "$odoo_dir/addons" "$odoo_dir/odoo/addons"; do
            [ -d "$candidate" ] && ODOO_ADDONS_PATH="${ODOO_ADDONS_PATH:+$ODOO_ADDONS_PATH,}$candidate"
        done
    fi
    addons_path="${ODOO_ADDONS_PATH:+$ODOO_ADDONS_PATH,}$root"
}

# pg_ensure: a local PostgreSQL, started if none answers, with a role for us.
pg_ensure() {
    local cluster version_dir
    if ! pg_isready -q 2>/dev/null; then
        for cluster in /etc/postgresql/*/main; do
            [ -d "$cluster" ] || continue
            version_dir=$(basename "$(dirname "$cluster")")
            echo "== starting PostgreSQL $version_dir"
            pg_ctlcluster "$version_dir" main start || true
        done
        for _ in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q && break; sleep 1; done
    fi
    if ! psql -d postgres -Atc "select 1" >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        su postgres -c "createuser --superuser $(id -un)" || true
    fi
}
