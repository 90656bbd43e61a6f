#!/usr/bin/env bash
# Webhook ingest, Ledgerline against the stack a typical founder has, in one run (BENCHMARKS.md):
# a separate load process (server/examples/webhook_load.rs) posts signed events over loopback
# at fixed rates and flat out to Ledgerline on SQLite, Ledgerline on PostgreSQL, and the
# reference receiver (bench/reference: Express + stripe's constructEvent + better-sqlite3), and
# last a receiver that does no work at all (server/examples/null_receiver.rs): the ceiling this
# load process and machine allow any receiver.
# Ledgerline runs with BENCH_WORKERS job workers (default 0: the same verify-and-store work as
# the reference; 2 adds the processing of every event meanwhile).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE_ROOT=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE_ROOT/ledgerline-target}
PG=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SECONDS_EACH=${BENCH_SECONDS:-10}
SECRET=whsec_bench_ingest_000000000001
DIR=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT

cargo build -q --release -p server --bin ledgerline --example webhook_load --example null_receiver
# better-sqlite3 is compiled here against the system's Node headers (Debian ships them under
# /usr/include/node) instead of fetching a prebuilt binary from GitHub.
(cd bench/reference && npm_config_build_from_source=true npm_config_nodedir=${NODEDIR:-/usr} \
  npm ci --silent --no-audit --no-fund)
BIN=$CARGO_TARGET_DIR/release/ledgerline
LOAD=$CARGO_TARGET_DIR/release/examples/webhook_load
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# Runs every load against one receiver; $1 label, $2 URL.
loads() {
  "$LOAD" "$2" "$SECRET" "$1" 200 "$SECONDS_EACH"
  "$LOAD" "$2" "$SECRET" "$1" 1000 "$SECONDS_EACH"
  "$LOAD" "$2" "$SECRET" "$1" 0 "$SECONDS_EACH" 16
  "$LOAD" "$2" "$SECRET" "$1" 0 "$SECONDS_EACH" 64
  # Past the reference's saturation (one event loop), to show where each receiver levels off.
  "$LOAD" "$2" "$SECRET" "$1" 0 "$SECONDS_EACH" 256
}

ledgerline() { # $1 label, $2 DATABASE_URL
  local port; port=$(free_port)
  env APP_ENV=test DATABASE_URL="$2" LEPTOS_SITE_ADDR="127.0.0.1:$port" STRIPE_WEBHOOK_SECRET="$SECRET" \
    WORKER_COUNT="${BENCH_WORKERS:-0}" LOG_FORMAT=json RUST_LOG=warn "$BIN" serve >"$DIR/$1.log" 2>&1 &
  local pid=$!; PIDS+=("$pid")
  wait_up "http://127.0.0.1:$port/api/health"
  loads "$1" "http://127.0.0.1:$port/api/webhooks/stripe"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "| receiver | load | events/s | p50 | p99 | max | errors |"
echo "|---|---|---|---|---|---|---|"
ledgerline "ledgerline sqlite" "sqlite://$DIR/ledgerline.db"
DBNAME=bench_ingest_$$
psql -q "$PG" -c "CREATE DATABASE $DBNAME" >/dev/null
ledgerline "ledgerline postgres" "${PG%/*}/$DBNAME"
psql -q "$PG" -c "DROP DATABASE $DBNAME" >/dev/null

port=$(free_port)
(cd bench/reference && exec env PORT="$port" DB="$DIR/reference.db" STRIPE_WEBHOOK_SECRET="$SECRET" node server.js) \
  >"$DIR/reference.log" 2>&1 &
PIDS+=("$!")
wait_up "http://127.0.0.1:$port/health"
loads "reference node" "http://127.0.0.1:$port/webhook"

port=$(free_port)
"$CARGO_TARGET_DIR/release/examples/null_receiver" "127.0.0.1:$port" >"$DIR/null.log" 2>&1 &
PIDS+=("$!")
wait_up "http://127.0.0.1:$port/health"
loads "ceiling: axum, no work" "http://127.0.0.1:$port/webhook"
