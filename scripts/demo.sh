#!/usr/bin/env bash
# Builds Ledgerline and starts it on SQLite at http://127.0.0.1:3000 (README, first command).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build

# cargo-leptos adds its own RUSTFLAGS for debug builds; an inherited value would be doubled
# and force a full rebuild of what `scripts/test.sh` already compiled.
env -u RUSTFLAGS cargo leptos build

export DATABASE_URL=${DATABASE_URL:-sqlite://data/ledgerline.db}
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
export LEPTOS_SITE_ROOT=target/site
BIN=${CARGO_TARGET_DIR:-target}/debug/ledgerline

"$BIN" migrate >/dev/null
cat <<MSG

  Ledgerline is starting at http://${LEPTOS_SITE_ADDR}
  Database: ${DATABASE_URL}
  Stop with Ctrl-C.

MSG
exec "$BIN" serve
