#!/usr/bin/env bash
# Cold start and memory of the release server (BENCHMARKS.md): time from exec to a healthy
# /api/health on a new SQLite database (migrations included) and on an existing one, then RSS
# idle and after 10 s of flat-out signed webhooks from the separate load process.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE_ROOT=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE_ROOT/ledgerline-target}
cargo build -q --release -p server --bin ledgerline --example webhook_load
BIN=$CARGO_TARGET_DIR/release/ledgerline
LOAD=$CARGO_TARGET_DIR/release/examples/webhook_load
DIR=$(mktemp -d)
SECRET=whsec_bench_footprint_0000001
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
start() { # sets PID and MS (milliseconds from exec to healthy)
  local t0; t0=$(date +%s%N)
  env APP_ENV=test DATABASE_URL="sqlite://$DIR/db.sqlite" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
    STRIPE_WEBHOOK_SECRET="$SECRET" LOG_FORMAT=json RUST_LOG=warn "$BIN" serve >>"$DIR/log" 2>&1 &
  PID=$!
  until curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; do sleep 0.005; done
  MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
echo "| what | result |"
echo "|---|---|"
start
echo "| cold start, new SQLite database (migrations) | $MS ms |"
kill "$PID"; wait "$PID" 2>/dev/null || true
start
echo "| cold start, existing database | $MS ms |"
sleep 2
echo "| RSS idle | $(( $(rss) / 1024 )) MiB |"
"$LOAD" "http://127.0.0.1:$PORT/api/webhooks/stripe" "$SECRET" footprint 0 10 16 >/dev/null
echo "| RSS after 10 s flat out (16 senders) | $(( $(rss) / 1024 )) MiB (peak $(( $(awk '/^VmHWM/ {print $2}' "/proc/$PID/status") / 1024 )) MiB) |"
