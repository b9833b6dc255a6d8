#!/usr/bin/env bash
# End-to-end check: the meter simulator and Odoo 18 on a fresh database, then
# scripts/e2e.py drives them over HTTP the way people do: staff set up a site,
# a tenant, a gateway, a meter and a tariff and open the account with the
# wizard; the tenant logs in to the portal and tops up with the demo payment
# provider; the reading cron runs until the account is in arrears; the trip,
# and the close after the next top-up, are read off the simulated meter with
# the project's CLI. Prints a line per check, exits non-zero on any mismatch,
# and always stops what it started and drops its database.
#
# Needs an Odoo 18 (ODOO_BIN etc., see scripts/lib/odoo_env.sh); without one it
# prints "e2e SKIPPED: ..." and exits 0. Optional: E2E_PROTOCOL (modbus-rtu,
# the default, or dlt645), E2E_HTTP_PORT (default: a free port),
# E2E_SIM_PORT_BASE (default: a free port), E2E_KEEP_DB=1 (keep the database).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# shellcheck source=scripts/lib/odoo_env.sh
. scripts/lib/odoo_env.sh
if ! odoo_env_find; then
    echo "e2e SKIPPED: $odoo_env_missing; the end-to-end check did not run"
    exit 0
fi
odoo_env_core_deps "$root"
addons_path=$(odoo_env_addons_path "$root")
odoo_env_postgres

protocol=${E2E_PROTOCOL:-modbus-rtu}
case "$protocol" in
    modbus-rtu | dlt645) ;;
    *) echo "e2e: E2E_PROTOCOL must be modbus-rtu or dlt645, not $protocol" >&2; exit 2 ;;
esac
modules=prepaid_energy,prepaid_energy_hw,prepaid_energy_portal,payment_demo
db="prepaid_energy_e2e_$$"
mkdir -p .tmp
work=$(mktemp -d "$root/.tmp/e2e.XXXXXX")  # the simulator's endpoints, Odoo's filestore
install_log=.tmp/e2e-install.log
odoo_log=.tmp/e2e-odoo.log
sim_pid=
odoo_pid=
child_pid=

# stop PID: SIGTERM, then SIGKILL if it is still there after 20 s
stop() {
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop "$child_pid"
    stop "$odoo_pid"
    stop "$sim_pid"
    if [ "${E2E_KEEP_DB:-}" = 1 ]; then
        echo "== e2e: database $db kept"
    else
        dropdb --if-exists --force "$db" >/dev/null 2>&1 || true
    fi
    if [ "$rc" -ne 0 ]; then
        echo "== e2e: last errors of Odoo ($odoo_log):"
        grep -E " (ERROR|CRITICAL) " "$odoo_log" 2>/dev/null | tail -n 20 || true
        echo "e2e FAILED (exit $rc)"
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run COMMAND... and wait for it: a signal to this script interrupts the wait
# (not a foreground command), so the clean-up runs at once
run() {
    "$@" &
    child_pid=$!
    wait "$child_pid"
}

free_port() {
    "$odoo_python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
http_port=${E2E_HTTP_PORT:-$(free_port)}

echo "== e2e: $odoo_version, fresh database $db with $modules (log: $install_log)"
# shellcheck disable=SC2086
if ! run "$odoo_python" "$odoo_bin" -d "$db" ${ODOO_DB_ARGS:-} \
    --addons-path="$addons_path" --data-dir="$work/data" -i "$modules" --without-demo=all \
    --stop-after-init --http-port="$http_port" --log-level=warn >"$install_log" 2>&1; then
    grep -E " (ERROR|CRITICAL) " "$install_log" | tail -n 20 || true
    echo "e2e: installing $modules failed (see $install_log)"
    exit 1
fi

# Meters consume fast (30 kW, a simulated minute per real second) so that a
# top-up is used up within a few reading slots.
echo "== e2e: simulator ($protocol, 1 gateway, 2 meters)"
"$odoo_python" -m prepaid_energy_core.simulator --gateways 1 --meters 2 \
    --protocol "$protocol" ${E2E_SIM_PORT_BASE:+--port-base "$E2E_SIM_PORT_BASE"} \
    --load-kw 30 --time-factor 60 --json >"$work/simulator.out" 2>"$work/simulator.err" &
sim_pid=$!
for _ in $(seq 50); do
    grep -qx ready "$work/simulator.out" 2>/dev/null && break
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.2
done
if ! grep -qx ready "$work/simulator.out" 2>/dev/null; then
    cat "$work/simulator.err"
    echo "e2e: the simulator did not start"
    exit 1
fi

# Odoo serves the database over HTTP with one cron thread: the command runner
# and the payment post-processing run there when the product triggers them.
echo "== e2e: Odoo on http://127.0.0.1:$http_port (log: $odoo_log)"
# shellcheck disable=SC2086
"$odoo_python" "$odoo_bin" -d "$db" --db-filter="^$db\$" ${ODOO_DB_ARGS:-} \
    --addons-path="$addons_path" --data-dir="$work/data" \
    --http-interface=127.0.0.1 --http-port="$http_port" --max-cron-threads=1 \
    --without-demo=all --log-level=info >"$odoo_log" 2>&1 &
odoo_pid=$!

run "$odoo_python" scripts/e2e.py --url "http://127.0.0.1:$http_port" --db "$db" \
    --simulator "$work/simulator.out" --python "$odoo_python"
echo "e2e PASSED ($protocol)"
