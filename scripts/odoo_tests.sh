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

# shellcheck source=scripts/odoo_env.sh
. scripts/odoo_env.sh
odoo_find "odoo tests" "the Odoo tests of ${mods[*]}" || exit 0
odoo_prepare "$root"
pg_ensure

mkdir -p .tmp
db="prepaid_energy_test_$$"
log=".tmp/odoo-tests.log"
tags=$(printf '/%s,' "${mods[@]}")
echo "== odoo tests of ${mods[*]} on $odoo_version, database $db (log: $log)"
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
