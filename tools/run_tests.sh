#!/usr/bin/env bash
# The single test command of the l10n_fr_credit_collection addon.
#
#   ./tools/run_tests.sh
#
# Steps, stopping at the first one that fails (exit code non-zero):
#   1. ruff check + ruff format --check            (config: .ruff.toml)
#   2. pylint-odoo mandatory checks                (config: .pylintrc-mandatory)
#      + OCA's XML/CSV/PO checks (oca-checks-odoo-module, oca-checks-po)
#   3. the wheel (pyproject.toml, whool): built offline and checked
#      (tools/check_wheel.py); where Odoo is importable, installed in a
#      throw-away virtualenv beside Odoo, which must find the addon there
#   4. the pure-python engine suite                (cd engine && python3 -m pytest)
#   5. the Odoo test suite of the addon, in a fresh throw-away database
#      (skipped, with one line saying so, when Odoo 18 is not importable)
# and a last line "N passed, N failed" summing the engine and Odoo tests.
#
# Tools come from requirements-test.txt (pip install -r requirements-test.txt).
#
# Environment:
#   PYTHON          python running ruff, pylint, pytest            (python3)
#   ODOO_PYTHON     python used to detect and run Odoo             ($PYTHON)
#   ODOO_BIN        Odoo launcher (default: `odoo` on PATH, else $ODOO_PYTHON -m odoo)
#   ODOO_DB_HOST    PostgreSQL host                                (127.0.0.1)
#   ODOO_DB_PORT    PostgreSQL port                                (5432)
#   ODOO_DB_USER    PostgreSQL role used by Odoo, created if missing (odoo)
#   ODOO_HTTP_PORT  HTTP port of the Odoo test server              (a free port)
#   ODOO_TIMEOUT    seconds after which each Odoo run is stopped   (2700)
#   KEEP_DB=1       keep the test database (and its filestore) at the end
set -euo pipefail

MODULE=l10n_fr_credit_collection
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
ODOO_PYTHON="${ODOO_PYTHON:-$PYTHON}"
ODOO_DB_HOST="${ODOO_DB_HOST:-127.0.0.1}"
ODOO_DB_PORT="${ODOO_DB_PORT:-5432}"
ODOO_DB_USER="${ODOO_DB_USER:-odoo}"
KEEP_DB="${KEEP_DB:-0}"
ODOO_TIMEOUT="${ODOO_TIMEOUT:-2700}"

# Lines of an Odoo log that have a WARNING, ERROR or CRITICAL level, e.g.
# "2026-05-10 10:00:00,123 4242 WARNING cc_test_4242 odoo.models: message".
LOG_PROBLEM_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) '
# The only tolerated warning: Debian's wkhtmltopdf is built on an unpatched Qt and
# writes on stderr "The switch --header-spacing, is not support using unpatched qt,
# and will be ignored." (once per header/footer switch, no newline in between),
# which Odoo logs as `_logger.warning('wkhtmltopdf: %s' % err)` in
# odoo/addons/base/models/ir_actions_report.py (err: stderr decoded as utf-8).
# The whole message must consist of such sentences; Odoo's log format ends with
# " %(perf_info)s", i.e. "", "- - -" or "<queries> <seconds> <seconds>".
WKHTMLTOPDF_UNPATCHED_QT_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [0-9]+ WARNING [^ ]+ odoo\.addons\.base\.models\.ir_actions_report: wkhtmltopdf: (The switch --[a-z-]+, is not support using unpatched qt, and will be ignored\.)+ ?(- - -|[0-9]+ [0-9.]+ [0-9.]+)?$'

step() {
    printf '\n==> %s\n' "$1"
}

fail() {
    printf '\nFAILED: %s\n' "$*" >&2
    exit 1
}

run_step() {
    # run_step "description" command args...: run the command, fail the run if it fails.
    local title="$1" rc=0
    shift
    step "$title"
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$title (exit code $rc)"
    fi
    echo "ok: $title"
}

short_paths() {
    # Run a linter, showing paths of the temporary lint folders as module paths
    # ("l10n_fr_credit_collection/models/x.py"); the exit code is the linter's.
    "$@" 2>&1 | sed -E 's#[^ ]*/lint/(link|copy)/##g'
}

need_module() {
    if ! "$PYTHON" -c "import $1" 2>/dev/null; then
        fail "python module '$1' is missing for $PYTHON: pip install -r requirements-test.txt"
    fi
}

drop_db() {
    # --force (PostgreSQL 13+) ends the connections an interrupted Odoo left open.
    local opts=(-h "$ODOO_DB_HOST" -p "$ODOO_DB_PORT" -U "$ODOO_DB_USER" --if-exists)
    # PGOPTIONS: no 'database "..." does not exist, skipping' notice.
    PGOPTIONS="-c client_min_messages=warning" dropdb "${opts[@]}" --force "$1" 2>/dev/null ||
        PGOPTIONS="-c client_min_messages=warning" dropdb "${opts[@]}" "$1"
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cc_tests.XXXXXX")"
DB=""
cleanup() {
    local rc=$?
    if [ -n "$DB" ]; then
        if [ "$KEEP_DB" = "1" ]; then
            echo "KEEP_DB=1: database '$DB' kept (filestore in $WORK/data," \
                "addons path $ADDONS_PATH)"
        else
            drop_db "$DB" || echo "warning: could not drop database '$DB'" >&2
            rm -rf "$WORK/data"
        fi
    fi
    rm -rf "$WORK/lint" "$WORK/xdg" "$WORK/wheel"
    # Keep the folder only when it holds Odoo logs (or the kept database's files).
    if [ ! -e "$WORK/odoo_install.log" ]; then rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT

cd "$ROOT"

# --------------------------------------------------------------------------- ruff
need_module ruff
run_step "ruff check" "$PYTHON" -m ruff check --no-fix --config "$ROOT/.ruff.toml" .
run_step "ruff format --check" "$PYTHON" -m ruff format --check --config "$ROOT/.ruff.toml" .

# ------------------------------------------------------------------------- pylint
# pylint-odoo takes the addon's name from its folder's name: lint the repository
# through a symlink named after the module, whatever the clone's folder is called.
# pylint only descends into folders that are Python packages (with __init__.py):
# engine/, bench/ and tools/ are not (engine/ is a pure-python library with its own
# pytest suite, bench/ and tools/ hold scripts that are not part of the addon), so
# pylint-odoo's addon checks never see them; `ignore-paths` in .pylintrc-mandatory
# keeps them out even if one of them gets an __init__.py one day.
need_module pylint_odoo
mkdir -p "$WORK/lint/link"
ln -s "$ROOT" "$WORK/lint/link/$MODULE"
if [ -t 1 ]; then PYLINT_FORMAT=colorized; else PYLINT_FORMAT=text; fi
run_step "pylint-odoo (mandatory checks, .pylintrc-mandatory)" \
    short_paths "$PYTHON" -m pylint --rcfile="$ROOT/.pylintrc-mandatory" \
    --output-format="$PYLINT_FORMAT" "$WORK/lint/link/$MODULE"

# pylint-odoo 9 moved the XML/CSV/PO checks of OCA's mandatory list (file-not-used,
# xml-deprecated-tree-attribute, dangerous view replace, po variables, ...) to
# oca-odoo-pre-commit-hooks, run here like OCA's pre-commit does. These tools
# resolve symlinks (the module would be named after the clone's folder), so they
# get a copy of the files that git does not ignore, in a folder named after the module.
need_module oca_pre_commit_hooks
COPY="$WORK/lint/copy/$MODULE"
mkdir -p "$COPY"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
        tar -C "$ROOT" --null --ignore-failed-read -T - -cf - 2>/dev/null |
        tar -C "$COPY" -xf -
else
    tar -C "$ROOT" --exclude=./.git -cf - . | tar -C "$COPY" -xf -
fi
cd "$WORK/lint/copy"
run_step "oca-checks-odoo-module (XML/CSV/manifest checks)" \
    short_paths "$PYTHON" -m oca_pre_commit_hooks.cli "$MODULE"
mapfile -t PO_FILES < <(find "$MODULE" -path "$MODULE/i18n*" \
    \( -name '*.po' -o -name '*.pot' \) | sort)
if [ "${#PO_FILES[@]}" -gt 0 ]; then
    run_step "oca-checks-po (translation files)" \
        short_paths "$PYTHON" -m oca_pre_commit_hooks.cli_po --disable=po-pretty-format \
        "${PO_FILES[@]}"
else
    step "oca-checks-po: no .po/.pot file, nothing to check"
fi

# -------------------------------------------------------------------- wheel
# The addon packaged the OCA way (pyproject.toml, build backend whool): built from
# the same copy, offline (whool comes from requirements-test.txt), then checked:
# name, version and dependencies from the manifest, every data file under
# odoo/addons/<module>/. Where Odoo is importable, the Odoo step below also
# installs it in a throw-away virtualenv and checks that Odoo finds it there.
need_module whool
run_step "wheel (pip wheel with whool, tools/check_wheel.py)" \
    "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation \
    --wheel-dir "$WORK/lint/wheel" "$COPY"
WHEEL="$(ls "$WORK"/lint/wheel/*.whl)"
run_step "wheel content (tools/check_wheel.py)" "$PYTHON" "$ROOT/tools/check_wheel.py" "$WHEEL"
mkdir -p "$WORK/wheel"
cp "$WHEEL" "$WORK/wheel/"
WHEEL="$WORK/wheel/$(basename "$WHEEL")"
cd "$ROOT"

# ----------------------------------------------------------------- engine pytest
need_module pytest
step "engine test suite (cd engine && $PYTHON -m pytest)"
PYTEST_LOG="$WORK/engine_pytest.log"
rc=0
(cd "$ROOT/engine" && "$PYTHON" -m pytest) 2>&1 | tee "$PYTEST_LOG" || rc=$?
if [ "$rc" -ne 0 ]; then
    fail "engine test suite (pytest exit code $rc)"
fi
# pytest's closing line, e.g. "1 failed, 16 passed, 2 skipped in 0.88s".
PYTEST_SUMMARY="$(grep -E '[0-9]+ (passed|failed|errors?|skipped)' "$PYTEST_LOG" | tail -n 1 || true)"
count_in() {
    # count_in "text" word -> the number before "word" in text, 0 when absent.
    local n
    n="$(printf '%s\n' "$1" | grep -oE "[0-9]+ $2" | head -n 1 | cut -d' ' -f1 || true)"
    echo "${n:-0}"
}
ENGINE_PASSED="$(count_in "$PYTEST_SUMMARY" passed)"
ENGINE_FAILED=$(($(count_in "$PYTEST_SUMMARY" failed) + $(count_in "$PYTEST_SUMMARY" 'errors?')))
if [ "$ENGINE_PASSED" -eq 0 ]; then
    fail "engine test suite: no test passed (summary: '${PYTEST_SUMMARY}')"
fi

# ------------------------------------------------------------------ Odoo tests
if ! "$ODOO_PYTHON" -c "import odoo" >/dev/null 2>&1; then
    echo "Odoo 18 is not importable here: the Odoo test suite was skipped."
    echo "${ENGINE_PASSED} passed, ${ENGINE_FAILED} failed"
    exit 0
fi
ODOO_VERSION="$("$ODOO_PYTHON" -c "import odoo.release as r; print(r.major_version)")"
if [ "$ODOO_VERSION" != "18.0" ]; then
    fail "Odoo $ODOO_VERSION is importable with $ODOO_PYTHON, this addon needs Odoo 18.0"
fi

# The wheel installed beside Odoo (a virtualenv seeing Odoo's packages): Odoo
# finds the addon in site-packages/odoo/addons without any --addons-path.
step "wheel installed beside Odoo: Odoo finds the addon without --addons-path"
"$ODOO_PYTHON" -m venv --system-site-packages "$WORK/wheel/venv" ||
    fail "could not create a virtualenv with $ODOO_PYTHON"
"$WORK/wheel/venv/bin/python" -m pip install --quiet --no-deps "$WHEEL" ||
    fail "pip install $WHEEL"
# Odoo's own folder on the virtualenv's path, as a plain (non-editable) install of
# Odoo puts it: a PEP 660 editable install of Odoo (a meta-path finder) loses the
# `odoo` package to the wheel's odoo/addons folder, a namespace found first.
"$ODOO_PYTHON" -c "import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))" \
    >"$("$WORK/wheel/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/odoo_source.pth"
FOUND="$("$WORK/wheel/venv/bin/python" -c "
import odoo.modules.module as m
print(m.get_module_path('$MODULE', display_warning=False) or '')")"
case "$FOUND" in
    "$WORK/wheel/venv/"*"/site-packages/odoo/addons/$MODULE") echo "ok: $FOUND" ;;
    *) fail "Odoo found '$FOUND' instead of the wheel's copy in the virtualenv" ;;
esac
rm -rf "$WORK/wheel/venv"

step "PostgreSQL at $ODOO_DB_HOST:$ODOO_DB_PORT, role '$ODOO_DB_USER'"
# shellcheck source=tools/postgres.sh
. "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
ensure_postgres
if ! psql -h "$ODOO_DB_HOST" -p "$ODOO_DB_PORT" -U "$ODOO_DB_USER" -d postgres \
    -tAc "SELECT 1" >/dev/null 2>&1; then
    echo "Creating the PostgreSQL role '$ODOO_DB_USER'"
    CREATE_ROLE="CREATE ROLE \"$ODOO_DB_USER\" LOGIN SUPERUSER CREATEDB"
    psql -h "$ODOO_DB_HOST" -p "$ODOO_DB_PORT" -U postgres -d postgres \
        -c "$CREATE_ROLE" ||
        fail "could not create the PostgreSQL role '$ODOO_DB_USER'"
fi

ODOO_ROOT_ADDONS="$("$ODOO_PYTHON" -c "import odoo, os; print(os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), 'addons'))")"
ODOO_BASE_ADDONS="$("$ODOO_PYTHON" -c "import odoo, os; print(os.path.join(os.path.dirname(odoo.__file__), 'addons'))")"
mkdir -p "$WORK/addons"
ln -s "$ROOT" "$WORK/addons/$MODULE"
ADDONS_PATH=""
for dir in "$ODOO_ROOT_ADDONS" "$ODOO_BASE_ADDONS"; do
    if [ -d "$dir" ]; then ADDONS_PATH="${ADDONS_PATH}${dir},"; fi
done
ADDONS_PATH="${ADDONS_PATH}$WORK/addons"

if [ -n "${ODOO_BIN:-}" ]; then
    read -r -a ODOO_CMD <<<"$ODOO_BIN"
elif [ "$ODOO_PYTHON" = "$PYTHON" ] && command -v odoo >/dev/null 2>&1; then
    ODOO_CMD=(odoo)
else
    ODOO_CMD=("$ODOO_PYTHON" -m odoo)
fi
free_port() {
    "$ODOO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
HTTP_PORT="${ODOO_HTTP_PORT:-$(free_port)}"
DB="cc_test_$$"
# Qt (wkhtmltopdf, chromium) complains on stderr when XDG_RUNTIME_DIR is unset.
mkdir -m 0700 "$WORK/xdg"
export XDG_RUNTIME_DIR="$WORK/xdg" TZ=UTC
ODOO_ARGS=(
    -d "$DB"
    --db_host="$ODOO_DB_HOST" --db_port="$ODOO_DB_PORT" --db_user="$ODOO_DB_USER"
    --addons-path="$ADDONS_PATH" --data-dir="$WORK/data"
    --http-interface=127.0.0.1 --http-port="$HTTP_PORT"
    --workers=0 --max-cron-threads=0 --without-demo=all --stop-after-init
)

# A hung Odoo run (e.g. a report rendering that waits forever) is stopped after
# ODOO_TIMEOUT seconds. From a terminal, --foreground keeps Ctrl-C working.
TIMEOUT=(timeout --kill-after=60)
if [ -t 0 ]; then TIMEOUT+=(--foreground); fi
TIMEOUT+=("$ODOO_TIMEOUT")

drop_db "$DB"
INSTALL_LOG="$WORK/odoo_install.log"
step "Odoo: installing l10n_fr_account in database $DB (log: $INSTALL_LOG)"
rc=0
"${TIMEOUT[@]}" "${ODOO_CMD[@]}" "${ODOO_ARGS[@]}" -i l10n_fr_account >"$INSTALL_LOG" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    tail -n 40 "$INSTALL_LOG" >&2
    fail "installing l10n_fr_account (odoo exit code $rc, log: $INSTALL_LOG)"
fi

LOG="$WORK/odoo_tests.log"
step "Odoo: installing and testing $MODULE (log: $LOG)"
rc=0
"${TIMEOUT[@]}" "${ODOO_CMD[@]}" "${ODOO_ARGS[@]}" -i "$MODULE" \
    --test-enable --test-tags "/$MODULE" --log-level=test >"$LOG" 2>&1 || rc=$?

PROBLEMS=()
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    PROBLEMS+=("odoo was stopped after ODOO_TIMEOUT=${ODOO_TIMEOUT}s (exit code $rc)")
elif [ "$rc" -ne 0 ]; then
    PROBLEMS+=("odoo exited with code $rc")
fi
OFFENDING="$(grep -nE "$LOG_PROBLEM_RE" "$LOG" | grep -vE "^[0-9]+:${WKHTMLTOPDF_UNPATCHED_QT_RE#^}" || true)"
if [ -n "$OFFENDING" ]; then
    PROBLEMS+=("$(printf '%s\n' "$OFFENDING" | wc -l) log line(s) at WARNING level or above")
fi
# Odoo's closing line (odoo/service/server.py, odoo/tests/result.py), e.g.
# "... INFO cc_test_42 odoo.tests.result: 0 failed, 0 error(s) of 57 tests when loading database 'cc_test_42'"
ODOO_SUMMARY="$(grep -E 'odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database' "$LOG" | tail -n 1 | sed -E 's/[[:space:]]+$//' || true)"
ODOO_TESTS=0
ODOO_FAILED=0
if [ -z "$ODOO_SUMMARY" ]; then
    PROBLEMS+=("no test result line ('... tests when loading database') in the log")
else
    read -r ODOO_FAILURES ODOO_ERRORS ODOO_TESTS < <(printf '%s\n' "$ODOO_SUMMARY" |
        sed -E 's/.*odoo\.tests\.result: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/')
    ODOO_FAILED=$((ODOO_FAILURES + ODOO_ERRORS))
    if [ "$ODOO_FAILED" -gt 0 ]; then
        PROBLEMS+=("$ODOO_FAILURES test failure(s) and $ODOO_ERRORS test error(s)")
    fi
    if [ "$ODOO_TESTS" -eq 0 ]; then
        PROBLEMS+=("no Odoo test ran")
    fi
fi
ODOO_PASSED=$((ODOO_TESTS - ODOO_FAILED))
if [ "$ODOO_PASSED" -lt 0 ]; then ODOO_PASSED=0; fi

if [ -n "$OFFENDING" ]; then
    # Each offending line with the lines of the same log record (a traceback...),
    # at most 60 of them: CI keeps this output, not the log file.
    printf '\nLog lines at WARNING level or above (line numbers in %s):\n' "$LOG"
    awk -v nums="$(printf '%s\n' "$OFFENDING" | cut -d: -f1 | tr '\n' ' ')" '
        BEGIN { n = split(nums, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
        /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { more = 0 }
        (NR in want) { print NR ": " $0; more = 60; next }
        more > 0 { print "    " $0; more-- }
    ' "$LOG"
fi
printf '\nOdoo: %s\n' "${ODOO_SUMMARY:-no test result line}"
printf 'Engine (pytest): %s\n' "$PYTEST_SUMMARY"
printf 'Full Odoo test log: %s\n' "$LOG"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
    printf '\nFAILED: Odoo test suite:\n' >&2
    printf '  - %s\n' "${PROBLEMS[@]}" >&2
fi
echo "$((ENGINE_PASSED + ODOO_PASSED)) passed, $((ENGINE_FAILED + ODOO_FAILED)) failed"
if [ "${#PROBLEMS[@]}" -gt 0 ]; then
    exit 1
fi
