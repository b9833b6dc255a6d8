#!/usr/bin/env bash
# Runs the addons' Odoo tests with Odoo's own test runner against PostgreSQL.
#
# It needs an Odoo 18 on the machine: ODOO_BIN=/path/to/odoo-bin, or an `odoo`
# command on PATH (found by scripts/lib/odoo_env.sh, which also reads
# ODOO_PYTHON, ODOO_ADDONS_PATH, ODOO_DB_ARGS). Without one it says plainly
# that the Odoo tests were skipped.
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

# shellcheck source=scripts/lib/odoo_env.sh
. scripts/lib/odoo_env.sh
if ! odoo_env_find; then
    echo "odoo tests SKIPPED: $odoo_env_missing; the Odoo tests of ${mods[*]} did not run"
    exit 0
fi
version=$odoo_version
odoo_env_core_deps "$root"
addons_path=$(odoo_env_addons_path "$root")
odoo_env_postgres

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
