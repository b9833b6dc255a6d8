#!/usr/bin/env bash
# Runs the addons' Odoo tests with Odoo's own test runner against PostgreSQL.
#
# It needs an Odoo 18 on the machine: ODOO_BIN=/path/to/odoo-bin, or an `odoo`
# command on PATH. Without one it says plainly that the Odoo tests were
# skipped. Optional: ODOO_PYTHON (the interpreter that runs Odoo; default: the
# script's shebang), ODOO_ADDONS_PATH (Odoo's own addons; default: found next
# to ODOO_BIN), ODOO_DB_ARGS (extra database options such as --db_host).
#
# Usage: scripts/odoo_tests.sh addon [addon ...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mods=("$@")
if [ ${#mods[@]} -eq 0 ]; then
    echo "odoo tests: no addon to test"
    exit 0
fi

odoo_bin=${ODOO_BIN:-$(command -v odoo || true)}
if [ -z "$odoo_bin" ]; then
    echo "odoo tests SKIPPED: no Odoo 18 on this machine (neither ODOO_BIN nor an odoo command);" \
         "the Odoo tests of ${mods[*]} did not run"
    exit 0
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

version=$("$odoo_python" "$odoo_bin" --version 2>/dev/null || true)
case "$version" in
    *" 18.0"*) ;;
    *)
        echo "odoo tests SKIPPED: $odoo_bin answers '${version:-nothing}', not Odoo 18;" \
             "the Odoo tests of ${mods[*]} did not run"
        exit 0
        ;;
esac

# This clone's prepaid_energy_core comes first; its dependencies must be in
# Odoo's interpreter (the addons declare them in external_dependencies).
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

# A local PostgreSQL, started if none answers.
# shellcheck disable=SC2086
if ! pg_isready -q ${ODOO_DB_ARGS:+} 2>/dev/null; then
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

mkdir -p .tmp
db="prepaid_energy_test_$$"
log=".tmp/odoo-tests.log"
tags=$(printf '/%s,' "${mods[@]}")
echo "== odoo tests of ${mods[*]} on $version, database $db (log: $log)"
set +e
# shellcheck disable=SC2086
"$odoo_python" "$odoo_bin" -d "$db" ${ODOO_DB_ARGS:-} \
    --addons-path="$addons_path" \
    -i "$(IFS=,; echo "${mods[*]}")" \
    --test-enable --test-tags="${tags%,}" \
    --without-demo=all --stop-after-init \
    --http-port="${ODOO_TEST_HTTP_PORT:-18069}" \
    --log-level=test --log-handler=odoo.tests.stats:WARNING \
    >"$log" 2>&1
rc=$?
set -e
dropdb --if-exists "$db" >/dev/null 2>&1 || true

grep -E "(ERROR|CRITICAL) .*|^(FAIL|ERROR): " "$log" | head -n 60 || true
summary=$(grep -oE "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n 1 || true)
if [ -z "$summary" ]; then
    echo "odoo tests FAILED: Odoo exited $rc without a test summary (see $log)"
    exit 1
fi
read -r failed errors total <<<"$(echo "$summary" | sed -E 's/([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests/\1 \2 \3/')"
bad=$((failed + errors))
echo "odoo: $((total - bad)) passed, $bad failed"
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$total" -eq 0 ]; then
    echo "odoo tests FAILED (exit $rc, $summary)"
    exit 1
fi
