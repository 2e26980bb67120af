# Sourced by run_tests.sh and run_demo.sh: make sure PostgreSQL answers at
# $ODOO_DB_HOST:$ODOO_DB_PORT, starting the local cluster when it is stopped.
# Needs a `fail` function in the caller.

pg_ready() {
    pg_isready -q -h "$ODOO_DB_HOST" -p "$ODOO_DB_PORT" >/dev/null 2>&1
}

ensure_postgres() {
    pg_ready && return 0
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        # shellcheck disable=SC2012 # version folders: plain numbers
        PG_VERSION="$(ls /etc/postgresql | sort -V | tail -n 1)"
        echo "PostgreSQL is not running: starting cluster $PG_VERSION/main"
        pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start ||
            echo "warning: pg_ctlcluster $PG_VERSION main start failed" >&2
    fi
    for _ in $(seq 1 30); do
        pg_ready && return 0
        sleep 1
    done
    fail "PostgreSQL does not answer at $ODOO_DB_HOST:$ODOO_DB_PORT"
}
