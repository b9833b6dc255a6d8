# Finding the machine's Odoo 18 and PostgreSQL, shared by scripts/odoo_tests.sh
# and scripts/run.sh (sourced, not run).
#
# Inputs (environment): ODOO_BIN=/path/to/odoo-bin, or an `odoo` command on
# PATH; ODOO_PYTHON (the interpreter that runs Odoo; default: odoo-bin's
# shebang); ODOO_ADDONS_PATH (Odoo's own addons; default: found next to
# ODOO_BIN); ODOO_DB_ARGS (extra database options such as --db_host).
#
# odoo_env_find sets odoo_bin, odoo_python and odoo_version; when there is no
# Odoo 18 it returns 1 with the reason in odoo_env_missing.

odoo_env_find() {
    odoo_bin=${ODOO_BIN:-$(command -v odoo || true)}
    odoo_python=
    odoo_version=
    odoo_env_missing=
    if [ -z "$odoo_bin" ]; then
        odoo_env_missing="no Odoo 18 on this machine (neither ODOO_BIN nor an odoo command)"
        return 1
    fi
    if [ ! -f "$odoo_bin" ]; then
        odoo_env_missing="ODOO_BIN=$odoo_bin is not a file"
        return 1
    fi
    odoo_python=${ODOO_PYTHON:-}
    local odoo_dir candidate
    odoo_dir=$(dirname "$(readlink -f "$odoo_bin")")
    # A virtualenv next to odoo-bin is the usual source install's interpreter.
    for candidate in "$odoo_dir/venv/bin/python" "$odoo_dir/.venv/bin/python"; do
        if [ -z "$odoo_python" ] && [ -x "$candidate" ]; then odoo_python=$candidate; fi
    done
    if [ -z "$odoo_python" ]; then
        local shebang
        shebang=$(head -c 200 "$odoo_bin" | tr -d '\0' | head -n 1)
        case "$shebang" in
            '#!/usr/bin/env '*) odoo_python=${shebang#\#!/usr/bin/env } ;;
            '#!'*python*) odoo_python=${shebang#\#!} ;;
            *) odoo_python=python3 ;;
        esac
    fi
    odoo_version=$("$odoo_python" "$odoo_bin" --version 2>/dev/null || true)
    case "$odoo_version" in
        *" 18.0"*) return 0 ;;
    esac
    odoo_env_missing="$odoo_bin answers '${odoo_version:-nothing}', not Odoo 18"
    return 1
}

# prepaid_energy_core's dependencies into Odoo's interpreter (the addons
# declare them in external_dependencies); this clone's core comes first on
# PYTHONPATH, so the installed copy only brings the dependencies.
odoo_env_core_deps() {
    local root=$1
    export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
    if ! "$odoo_python" -c "import pymodbus, serial, Crypto, xlsxwriter" 2>/dev/null; then
        echo "== installing prepaid_energy_core's dependencies into $odoo_python"
        "$odoo_python" -m pip install -q "$root"
    fi
}

# Prints the --addons-path value: Odoo's own addons, then this clone's.
odoo_env_addons_path() {
    local root=$1 path=${ODOO_ADDONS_PATH:-} odoo_dir candidate
    if [ -z "$path" ]; then
        odoo_dir=$(cd "$(dirname "$(readlink -f "$odoo_bin")")" && pwd)
        for candidate in "$odoo_dir/addons" "$odoo_dir/odoo/addons"; do
            [ -d "$candidate" ] && path="${path:+$path,}$candidate"
        done
    fi
    echo "${path:+$path,}$root"
}

# A local PostgreSQL, started if none answers; the current user made a
# superuser when we are root and it has no role yet.
odoo_env_postgres() {
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
