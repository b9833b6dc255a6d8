#!/bin/bash
# The Odoo container's command: create the demo database on the first start
# (prepaid_energy_demo with its demo data), then serve it. Both steps go
# through the official image's /entrypoint.sh, which adds the database options
# (HOST, USER, PASSWORD) and waits for PostgreSQL.
set -euo pipefail
db=${PREPAID_DEMO_DB:-prepaid_demo}
modules=${PREPAID_DEMO_MODULES:-prepaid_energy_demo}

export PGHOST=${DB_HOST:-${HOST:-db}} PGPORT=${DB_PORT:-${PORT:-5432}}
export PGUSER=${DB_USER:-${USER:-odoo}} PGPASSWORD=${DB_PASSWORD:-${PASSWORD:-odoo}}
installed() {
    local count
    count=$(psql -d "$db" -Atc "SELECT count(*) FROM ir_module_module
        WHERE state = 'installed' AND name = ANY(string_to_array('$modules', ','))" \
        2>/dev/null || echo 0)
    [ "$count" = "$(echo "$modules" | tr ',' '\n' | grep -c .)" ]
}
for _ in $(seq 30); do pg_isready -q && break; sleep 1; done
if ! installed; then
    echo "== creating the demo database $db ($modules and its demo site; a few minutes)"
    # Odoo's own demo data stays out: the demo is the Harbour Park site alone, with
    # its Chinese chart of accounts, not a US company with sample sales
    /entrypoint.sh odoo -d "$db" -i "$modules" --without-demo=all --stop-after-init \
        --max-cron-threads=0
fi
exec /entrypoint.sh odoo -d "$db" --db-filter="^${db}\$"
