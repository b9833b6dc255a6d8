#!/bin/sh
# The simulator container's command: wait until the demo database has meters
# on gateways (the Odoo container creates it on its first start), write their
# last stored registers to a state file, serve exactly those meters.
# Reading the database at every start keeps the registers from going back.
set -u
trap "exit 0" TERM INT  # stop at once while still waiting
db=${PREPAID_DEMO_DB:-prepaid_demo}
base=${PREPAID_SIM_PORT_BASE:-7000}
state=/tmp/prepaid-state.json
said=
while :; do
    message=$(python "${PREPAID_HOME:-/opt/prepaid_energy}/scripts/demo_state.py" "$db" --out "$state" \
        --port-base "$base" --db_host "${DB_HOST:-db}" --db_port "${DB_PORT:-5432}" \
        --db_user "${DB_USER:-odoo}" --db_password "${DB_PASSWORD:-odoo}" 2>&1) && break
    # not there yet (no database, tables or meters while Odoo installs the demo)
    if [ "$message" != "$said" ]; then echo "waiting for the demo meters: $message"; said=$message; fi
    sleep 5
done
echo "$message"
exec prepaid-simulator --state "$state" --host 0.0.0.0 --port-base "$base"
