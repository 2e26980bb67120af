#!/usr/bin/env bash
# Serve a demo database of the addon on http://127.0.0.1:8069 (login admin / admin).
#
#   ./tools/run_demo.sh [DATABASE] [extra odoo arguments...]
#
# DATABASE defaults to credit_collection_demo. When it does not exist yet (or the
# addon is not installed in it), l10n_fr_account then l10n_fr_credit_collection are
# installed in it WITH demo data; then Odoo serves it until Ctrl-C. The database and
# its filestore (Odoo's default data dir) are kept between runs: drop them with
#   dropdb -h 127.0.0.1 -U odoo credit_collection_demo
# Extra arguments go to the serving Odoo, e.g. `-u l10n_fr_credit_collection` after
# changing the addon's data or views, or `--dev=xml,reload`.
#
# Environment: ODOO_PYTHON (python3), ODOO_BIN (`odoo` on PATH, else
# $ODOO_PYTHON -m odoo), ODOO_DB_HOST (127.0.0.1), ODOO_DB_PORT (5432),
# ODOO_DB_USER (odoo, created if missing), ODOO_HTTP_PORT (8069).
set -euo pipefail

MODULE=l10n_fr_credit_collection
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB="${1:-credit_collection_demo}"
if [ "$#" -gt 0 ]; then shift; fi
ODOO_PYTHON="${ODOO_PYTHON:-python3}"
ODOO_DB_HOST="${ODOO_DB_HOST:-127.0.0.1}"
ODOO_DB_PORT="${ODOO_DB_PORT:-5432}"
ODOO_DB_USER="${ODOO_DB_USER:-odoo}"
ODOO_HTTP_PORT="${ODOO_HTTP_PORT:-8069}"

fail() {
    printf 'run_demo: %s\n' "$*" >&2
    exit 1
}

if ! [[ "$DB" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
    fail "invalid database name '$DB'"
fi
if ! "$ODOO_PYTHON" -c "import odoo" >/dev/null 2>&1; then
    fail "Odoo 18 is not importable with $ODOO_PYTHON"
fi

# PostgreSQL running, and the role Odoo connects with.
# shellcheck source=tools/postgres.sh
. "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
ensure_postgres
PSQL=(psql -h "$ODOO_DB_HOST" -p "$ODOO_DB_PORT" -U "$ODOO_DB_USER")
if ! "${PSQL[@]}" -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    echo "Creating the PostgreSQL role '$ODOO_DB_USER'"
    psql -h "$ODOO_DB_HOST" -p "$ODOO_DB_PORT" -U postgres -d postgres \
        -c "CREATE ROLE \"$ODOO_DB_USER\" LOGIN SUPERUSER CREATEDB" ||
        fail "could not create the PostgreSQL role '$ODOO_DB_USER'"
fi

# Odoo finds the addon by its folder's name: a symlink named after the module,
# whatever the clone's folder is called, in a throw-away addons folder.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cc_demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/addons"
ln -s "$ROOT" "$WORK/addons/$MODULE"
ADDONS_PATH=""
for dir in \
    "$("$ODOO_PYTHON" -c "import odoo, os; print(os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), 'addons'))")" \
    "$("$ODOO_PYTHON" -c "import odoo, os; print(os.path.join(os.path.dirname(odoo.__file__), 'addons'))")"; do
    if [ -d "$dir" ]; then ADDONS_PATH="${ADDONS_PATH}${dir},"; fi
done
ADDONS_PATH="${ADDONS_PATH}$WORK/addons"

if [ -n "${ODOO_BIN:-}" ]; then
    read -r -a ODOO_CMD <<<"$ODOO_BIN"
elif command -v odoo >/dev/null 2>&1; then
    ODOO_CMD=(odoo)
else
    ODOO_CMD=("$ODOO_PYTHON" -m odoo)
fi
ODOO_ARGS=(
    -d "$DB" --db-filter="^${DB//./\\.}\$"
    --db_host="$ODOO_DB_HOST" --db_port="$ODOO_DB_PORT" --db_user="$ODOO_DB_USER"
    --addons-path="$ADDONS_PATH"
    --http-interface=127.0.0.1 --http-port="$ODOO_HTTP_PORT"
)

module_installed() {
    # The module is installed in DB, which exists.
    [ "$("${PSQL[@]}" -d "$DB" -tAc \
        "SELECT state FROM ir_module_module WHERE name = '$1'" 2>/dev/null)" = installed ]
}
db_exists() {
    [ "$("${PSQL[@]}" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$DB'")" = 1 ]
}

export TZ=UTC
if db_exists && module_installed "$MODULE"; then
    echo "Database '$DB' exists with $MODULE installed: serving it."
else
    if db_exists; then
        echo "Database '$DB' exists without $MODULE: installing it."
    else
        echo "Creating the demo database '$DB' (with demo data)."
    fi
    for module in l10n_fr_account "$MODULE"; do
        if ! module_installed "$module"; then
            echo "Installing $module in '$DB'..."
            # French first: the demo and its customers speak it.
            "${ODOO_CMD[@]}" "${ODOO_ARGS[@]}" -i "$module" --load-language=fr_FR \
                --stop-after-init ||
                fail "installing $module in '$DB' failed"
        fi
    done
fi

echo "Serving '$DB' on http://127.0.0.1:$ODOO_HTTP_PORT (login admin / admin)," \
    "Ctrl-C to stop."
"${ODOO_CMD[@]}" "${ODOO_ARGS[@]}" "$@"
