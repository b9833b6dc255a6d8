#!/usr/bin/env bash
# `make run`: the demo on this machine's Odoo 18 and PostgreSQL.
#
# 1. creates the demo database once (prepaid_energy_demo and its demo data);
# 2. writes the simulator's state from the database's last readings
#    (scripts/demo_state.py) and starts the meter simulator on
#    127.0.0.1:7000.. so the demo gateways answer;
# 3. runs Odoo on http://localhost:8069 until Ctrl-C, which stops both.
#
# Odoo is found like the tests find it (scripts/lib/odoo_env.sh: ODOO_BIN,
# ODOO_PYTHON, ODOO_ADDONS_PATH, ODOO_DB_ARGS). Options (environment):
#   PREPAID_DEMO_DB        database name (default prepaid_demo); dropdb it to reset
#   PREPAID_DEMO_MODULES   what the database installs (default prepaid_energy_demo)
#   PREPAID_RUN_PORT       Odoo's HTTP port (default 8069)
#   PREPAID_SIM_PORT_BASE  port of simulated gateway 0 (default 7000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

db=${PREPAID_DEMO_DB:-prepaid_demo}
modules=${PREPAID_DEMO_MODULES:-prepaid_energy_demo}
http_port=${PREPAID_RUN_PORT:-8069}
sim_port_base=${PREPAID_SIM_PORT_BASE:-7000}
work=$root/.tmp/run
mkdir -p "$work"

# shellcheck source=scripts/lib/odoo_env.sh
. scripts/lib/odoo_env.sh
if ! odoo_env_find; then
    echo "make run: $odoo_env_missing: set ODOO_BIN=/path/to/odoo-bin (and ODOO_PYTHON=its python)," \
         "or use Docker: docker compose -f docker/compose.yaml up --build" >&2
    exit 1
fi
odoo_env_core_deps "$root"
addons_path=$(odoo_env_addons_path "$root")
odoo_env_postgres

# An array, not a function: a backgrounded function is a subshell, and its pid
# is not Odoo's.
read -r -a db_args <<<"${ODOO_DB_ARGS:-}"
odoo=("$odoo_python" "$odoo_bin" -d "$db" "${db_args[@]}" --addons-path="$addons_path")

# -- 1. the demo database, once ------------------------------------------------
installed() {
    local wanted count
    wanted=$(echo "$modules" | tr ',' '\n' | grep -c .)
    count=$(psql -d "$db" -Atc "SELECT count(*) FROM ir_module_module
        WHERE state = 'installed' AND name = ANY(string_to_array('$modules', ','))" \
        2>/dev/null || echo 0)
    [ "$count" = "$wanted" ]
}
if ! installed; then
    created=
    if ! psql -d "$db" -Atc "select 1" >/dev/null 2>&1; then created=1; fi
    echo "== creating the demo database $db ($modules and its demo site; a few minutes;" \
         "log: .tmp/run/install.log)"
    # A half-made database would not be retried cleanly: drop what we created.
    drop_new() { if [ -n "$created" ]; then dropdb --if-exists --force "$db" >/dev/null 2>&1; fi; }
    trap 'drop_new; echo "make run: interrupted, $db not created" >&2; exit 130' INT TERM
    # Odoo's own demo data stays out: the demo is the Harbour Park site alone, with
    # its Chinese chart of accounts, not a US company with sample sales.
    if ! "${odoo[@]}" -i "$modules" --without-demo=all --stop-after-init \
            --http-port="$http_port" --max-cron-threads=0 >"$work/install.log" 2>&1 ||
            ! installed; then
        grep -E "(ERROR|CRITICAL)" "$work/install.log" | head -n 20 >&2 || true
        drop_new
        echo "make run: installing $modules into $db failed (see .tmp/run/install.log)" >&2
        exit 1
    fi
    trap - INT TERM
fi

# -- 2. the simulator, from the last stored readings --------------------------------
sim_pid=
odoo_pid=
stop_all() {
    trap - INT TERM EXIT
    if [ -n "$odoo_pid" ] && kill -0 "$odoo_pid" 2>/dev/null; then
        # A Ctrl-C reached Odoo with us (one process group): give it time to stop
        # on its own; a second signal would be Odoo's forced shutdown.
        for _ in $(seq 50); do kill -0 "$odoo_pid" 2>/dev/null || break; sleep 0.2; done
        kill -TERM "$odoo_pid" 2>/dev/null || true
        wait "$odoo_pid" 2>/dev/null || true
    fi
    if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    echo "== stopped Odoo and the simulator"
}
trap 'stop_all; exit 130' INT
trap 'kill -TERM "$odoo_pid" 2>/dev/null; stop_all; exit 143' TERM
trap stop_all EXIT

state=$work/state.json
set +e
"$odoo_python" scripts/demo_state.py "$db" "${db_args[@]}" --out "$state" \
    --port-base "$sim_port_base"
rc=$?
set -e
if [ "$rc" -eq 0 ]; then
    # SIGINT stays ignored in this background job: the trap stops it with SIGTERM.
    "$odoo_python" -m prepaid_energy_core.simulator --state "$state" \
        --port-base "$sim_port_base" >"$work/simulator.log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 50); do
        grep -q '^ready' "$work/simulator.log" && break
        kill -0 "$sim_pid" 2>/dev/null || break
        sleep 0.2
    done
    if ! grep -q '^ready' "$work/simulator.log"; then
        cat "$work/simulator.log" >&2
        echo "make run: the meter simulator did not start (see .tmp/run/simulator.log)" >&2
        exit 1
    fi
    sed 's/^/   simulator: /' "$work/simulator.log" | grep -v ': ready$'
elif [ "$rc" -eq 3 ]; then
    echo "== no meter on a TCP gateway in $db: the simulator is not started"
else
    echo "make run: could not read the meters of $db for the simulator" >&2
    exit 1
fi

# -- 3. Odoo until Ctrl-C ---------------------------------------------------------
logins() {
    # The demo addon's readme says who logs in: its "Logins" section, as written.
    local usage=prepaid_energy_demo/readme/USAGE.md
    if [ -f "$usage" ] && grep -qiE '^#+ *(demo )?logins' "$usage"; then
        awk 'tolower($0) ~ /^#+ *(demo )?logins/ {on = 1; next} /^#/ {on = 0} on && NF' "$usage"
        return
    fi
    cat <<'LOGINS'
   admin / admin          administrator (back office)
   manager / manager      site manager
   cashier / cashier      cashier (recharges, refunds, shift)
   accountant / accountant
   tenant1 / tenant1      tenant portal (/my), tenant2 / tenant2 likewise
LOGINS
}
"${odoo[@]}" --http-port="$http_port" --db-filter="^${db}\$" &
odoo_pid=$!
url=http://localhost:$http_port
for _ in $(seq 120); do
    kill -0 "$odoo_pid" 2>/dev/null || break
    if "$odoo_python" -c "import urllib.request, sys
urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/web/health" 2>/dev/null; then
        cat <<EOF

== Prepaid energy demo: $url  (database $db; Ctrl-C stops Odoo and the simulator)
$(logins)

EOF
        break
    fi
    sleep 1
done
wait "$odoo_pid"
