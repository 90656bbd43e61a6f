#!/usr/bin/env bash
# Runs every check and test (README, second command; CI runs exactly this):
# format, lints (server and WASM), unit + integration tests on SQLite and PostgreSQL,
# the web build, and browser tests in Debian's Chromium.
#
# PostgreSQL: uses TEST_POSTGRES_URL, else a local server at 127.0.0.1:5432 if one answers.
# Under CI=true PostgreSQL is required: an unreachable server fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG_DIR=$(mktemp -d)
SERVER_PID=
DEMO_PID=
LS_PID=
TOOLS_PID=
BROWSER_PID=
cleanup() {
  [ -n "$TOOLS_PID" ] && kill "$TOOLS_PID" 2>/dev/null || true
  [ -n "$BROWSER_PID" ] && kill "$BROWSER_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$DEMO_PID" ] && { pkill -P "$DEMO_PID" 2>/dev/null; kill "$DEMO_PID" 2>/dev/null; } || true
  [ -n "$LS_PID" ] && kill "$LS_PID" 2>/dev/null || true
  rm -rf "$LOG_DIR"
}
trap cleanup EXIT

# Each step shows the minutes and seconds since the run began, so a slow CI run says where.
step() { printf '\n\033[1m==> [%d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
fail() { printf '\033[31mFAILED: %s\033[0m\n' "$*" >&2; exit 1; }

step "tools"
scripts/setup.sh target
# cargo-leptos compiles for several minutes on a cold machine, and Chromium and the browser
# packages are mostly download: both install in the background while the lints and tests build
# (on 2 cores two builds overlap each other's single-crate stretches), and are awaited just
# before the step that needs them.
# Runs one setup part into its log and notes when it finished, to show what a cold run waits on.
timed_setup() {
  local status=0
  scripts/setup.sh "$1" >"$LOG_DIR/setup-$1.log" 2>&1 || status=$?
  echo "($1 finished at $((SECONDS / 60)) min $((SECONDS % 60)) s)" >>"$LOG_DIR/setup-$1.log"
  return "$status"
}
timed_setup tools &
TOOLS_PID=$!
timed_setup browser &
BROWSER_PID=$!
awaited() { # $1 pid, $2 what; shows the install's log either way
  local status=0
  wait "$1" || status=$?
  cat "$LOG_DIR/setup-$2.log"
  [ "$status" = 0 ] || fail "installing the $2 prerequisites"
}

# cargo-leptos builds debug binaries with RUSTFLAGS="--cfg erase_components" (appending to any
# RUSTFLAGS already set). Tests and lints use exactly that value so they share its artifacts;
# the web build itself is run without RUSTFLAGS so the flag is not doubled.
export RUSTFLAGS="--cfg erase_components"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step "format"
cargo fmt --all -- --check || fail "cargo fmt: run 'cargo fmt --all'"

step "layers (ARCHITECTURE.md): no upward import, no import cycle, no file over 500 lines"
python3 scripts/layers.py || fail "scripts/layers.py: an import breaks the layers ARCHITECTURE.md names"

step "lint: server (ssr) and tests"
cargo clippy --workspace --all-targets -- -D warnings
step "lint: browser bundle (hydrate, wasm32)"
cargo clippy -p app --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "PostgreSQL"
pg_up() { pg_isready -q -d "$1" 2>/dev/null || psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }
LOCAL_PG=postgres://postgres@127.0.0.1:5432/postgres
if [ -z "${TEST_POSTGRES_URL:-}" ] && pg_up "$LOCAL_PG"; then
  export TEST_POSTGRES_URL=$LOCAL_PG
fi
if [ "${CI:-}" = true ]; then
  export TEST_POSTGRES_URL=${TEST_POSTGRES_URL:-$LOCAL_PG}
  if ! pg_up "$TEST_POSTGRES_URL" && command -v pg_ctlcluster >/dev/null; then
    echo "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_up "$TEST_POSTGRES_URL" && break; sleep 1; done
  fi
  pg_up "$TEST_POSTGRES_URL" || fail "CI=true and PostgreSQL at TEST_POSTGRES_URL is unreachable"
fi
if [ -n "${TEST_POSTGRES_URL:-}" ]; then
  echo "PostgreSQL tests use ${TEST_POSTGRES_URL%%\?*}"
else
  echo "PostgreSQL not found: its tests will be skipped (set TEST_POSTGRES_URL to run them)"
fi

step "localstripe (third-party Stripe fake)"
# From PyPI into a cached virtualenv; its webhooks are signed by its own code, not ours.
PY_ENV=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/ledgerline-py
if [ ! -x "$PY_ENV/bin/localstripe" ]; then
  python3 -m venv "$PY_ENV"
  "$PY_ENV/bin/pip" install -q 'localstripe==1.15.10' || { rm -rf "$PY_ENV"; [ "${CI:-}" = true ] && fail "could not install localstripe"; }
fi
if [ -x "$PY_ENV/bin/localstripe" ]; then
  LS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # --from-scratch: localstripe otherwise reloads /tmp/localstripe.pickle, the state of any
  # earlier run on this machine (it writes that file after every change).
  "$PY_ENV/bin/localstripe" --port "$LS_PORT" --from-scratch >"$LOG_DIR/localstripe.log" 2>&1 &
  LS_PID=$!
  for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$LS_PORT/v1/customers" -H "Authorization: Bearer sk_test_probe" 2>/dev/null && break; sleep 0.2; done
  export LOCALSTRIPE_URL="http://127.0.0.1:$LS_PORT"
  echo "localstripe at $LOCALSTRIPE_URL"
else
  echo "localstripe unavailable: its tests will be skipped"
fi

step "unit and integration tests (SQLite and PostgreSQL)"
cargo test --workspace --no-fail-fast 2>&1 | tee "$LOG_DIR/cargo-test.log"
[ "${PIPESTATUS[0]}" = 0 ] || fail "cargo test"

step "web build (cargo leptos)"
awaited "$TOOLS_PID" tools
TOOLS_PID=
env -u RUSTFLAGS cargo leptos build

step "browser tests (Chromium)"
awaited "$BROWSER_PID" browser
BROWSER_PID=
BIN=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/ledgerline
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
E2E_DIR=$(mktemp -d)
export E2E_PASSWORD="e2e-$(date +%s)-orchard-lantern"
export E2E_ADMIN=admin@e2e.example.com E2E_VIEWER=viewer@e2e.example.com E2E_BILLING=billing@e2e.example.com
export E2E_STRIPE_WEBHOOK_SECRET="whsec_e2e_$(date +%s)_secret"
for who in "admin:$E2E_ADMIN" "viewer:$E2E_VIEWER" "billing:$E2E_BILLING"; do
  echo "$E2E_PASSWORD" | (cd "$E2E_DIR" && DATABASE_URL="sqlite://$E2E_DIR/e2e.db" \
    "$BIN" create-staff --role "${who%%:*}" --email "${who#*:}" --name "E2E ${who%%:*}") >/dev/null
done
# The product's key for the support intake API (tickets.test.mjs); the CLI prints only the key.
E2E_API_KEY=$(cd "$E2E_DIR" && DATABASE_URL="sqlite://$E2E_DIR/e2e.db" \
  "$BIN" api-key create --name "E2E product" --scope tickets:write 2>/dev/null)
export E2E_API_KEY
# One job of a kind no handler knows: the server's workers must mark it dead (tested in jobs.test.mjs).
export E2E_DEAD_JOB=job_e2e$(date +%s)
python3 - "$E2E_DIR/e2e.db" "$E2E_DEAD_JOB" <<'PY'
import json, sqlite3, sys, time
now = int(time.time() * 1000)
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at) "
           "VALUES (?, 'e2e.unregistered', ?, 'queued', 0, 10, ?, ?, ?)",
           (sys.argv[2], json.dumps({"customer": "cus_e2e", "api_key": "sk_test_supersecret"}), now, now, now))
db.commit()
PY
(
  cd "$E2E_DIR"
  exec env APP_ENV=test DATABASE_URL="sqlite://$E2E_DIR/e2e.db" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
    STRIPE_WEBHOOK_SECRET="$E2E_STRIPE_WEBHOOK_SECRET" \
    ${LOCALSTRIPE_URL:+STRIPE_API_KEY=sk_test_e2e_customers STRIPE_API_BASE="$LOCALSTRIPE_URL"} \
    REFUND_LIMIT_BILLING=1000 \
    LEPTOS_SITE_ROOT="$ROOT/target/site" "$BIN" serve
) >"$LOG_DIR/e2e-server.log" 2>&1 &
SERVER_PID=$!
# Waits until the server on port $1 (process $2, log $3) answers its health check.
wait_up() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/api/health" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3"; fail "the server on port $1 did not start"; }
    sleep 0.2
  done
}
wait_up "$PORT" "$SERVER_PID" "$LOG_DIR/e2e-server.log"

# A second server runs the demo as the README's first command does (DEMO_MODE: simulated Stripe
# and CRM, seed-demo history) for the journey tests, with the same staff and a refund limit of
# 20.00 for billing.
DEMO_DIR=$(mktemp -d)
DEMO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export E2E_SUPPORT=support@e2e.example.com
demo() {
  (cd "$DEMO_DIR" && exec env APP_ENV=test DEMO_MODE=true DATABASE_URL="sqlite://$DEMO_DIR/demo.db" \
    LEPTOS_SITE_ADDR="127.0.0.1:$DEMO_PORT" STRIPE_WEBHOOK_SECRET="$E2E_STRIPE_WEBHOOK_SECRET" \
    REFUND_LIMIT_BILLING=2000 LEPTOS_SITE_ROOT="$ROOT/target/site" "$BIN" "$@")
}
for who in "admin:$E2E_ADMIN" "billing:$E2E_BILLING" "support:$E2E_SUPPORT"; do
  echo "$E2E_PASSWORD" | demo create-staff --role "${who%%:*}" --email "${who#*:}" --name "E2E ${who%%:*}" >/dev/null
done
demo seed-demo --customers 80 --seed 5 >"$LOG_DIR/seed-demo.log" 2>&1 || { cat "$LOG_DIR/seed-demo.log"; fail "seed-demo"; }
E2E_DEMO_API_KEY=$(demo api-key create --name "E2E journeys" --scope tickets:write 2>/dev/null)
export E2E_DEMO_API_KEY
demo serve >"$LOG_DIR/demo-server.log" 2>&1 &
DEMO_PID=$!
wait_up "$DEMO_PORT" "$DEMO_PID" "$LOG_DIR/demo-server.log"
export DEMO_URL="http://127.0.0.1:$DEMO_PORT"

(cd end2end && BASE_URL="http://127.0.0.1:$PORT" node --test --test-concurrency=1 tests/) 2>&1 \
  | tee "$LOG_DIR/e2e.log"
E2E_STATUS=${PIPESTATUS[0]}
# `demo serve &` backgrounds the function, whose subshell runs the server as its child: stop
# that child too (killing $DEMO_PID alone left the demo server running after every run).
pkill -P "$DEMO_PID" 2>/dev/null || true
kill "$SERVER_PID" "$DEMO_PID" 2>/dev/null; wait "$SERVER_PID" "$DEMO_PID" 2>/dev/null || true; SERVER_PID= DEMO_PID=
rm -rf "$E2E_DIR" "$DEMO_DIR"
if [ "$E2E_STATUS" != 0 ]; then tail -50 "$LOG_DIR/e2e-server.log" "$LOG_DIR/demo-server.log"; fail "browser tests"; fi

step "summary"
rust_passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$LOG_DIR/cargo-test.log" | awk '{s+=$4} END {print s+0}')
on_sqlite=$(grep -Ec '::sqlite::.* \.\.\. ok$' "$LOG_DIR/cargo-test.log" || true)
on_postgres=$(grep -Ec '::postgres::.* \.\.\. ok$' "$LOG_DIR/cargo-test.log" || true)
e2e_passed=$(grep -Eo '^# pass [0-9]+' "$LOG_DIR/e2e.log" | awk '{print $3}')
e2e_failed=$(grep -Eo '^# fail [0-9]+' "$LOG_DIR/e2e.log" | awk '{print $3}')
echo "rust tests: $rust_passed passed (integration tests per backend: sqlite $on_sqlite, postgres $on_postgres)"
echo "browser tests: $e2e_passed passed"
if [ -n "${TEST_POSTGRES_URL:-}" ] && [ "$on_postgres" != "$on_sqlite" ]; then
  fail "PostgreSQL ran $on_postgres backend tests but SQLite ran $on_sqlite"
fi
echo "all: $((rust_passed + e2e_passed)) passed, ${e2e_failed:-0} failed"
