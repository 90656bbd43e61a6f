#!/usr/bin/env bash
# Builds Ledgerline and starts it on SQLite at http://127.0.0.1:3000 (README, first command).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build

# cargo-leptos adds its own RUSTFLAGS for debug builds; an inherited value would be doubled
# and force a full rebuild of what `scripts/test.sh` already compiled.
env -u RUSTFLAGS cargo leptos build

export DATABASE_URL=${DATABASE_URL:-sqlite://data/ledgerline.db}
# Simulated Stripe and CRM (a banner on every page says so); refuses to start with real keys.
export DEMO_MODE=true
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
export LEPTOS_SITE_ROOT=target/site
BIN=${CARGO_TARGET_DIR:-target}/debug/ledgerline

"$BIN" migrate >/dev/null

# One local account per role, so every part of the product can be tried. Created once; a
# second run leaves existing accounts (and any password changed since) alone.
DEMO_PASSWORD=${DEMO_PASSWORD:-ledgerline-demo-2026}
for role in admin billing support viewer; do
  echo "$DEMO_PASSWORD" | "$BIN" create-staff --role "$role" --email "$role@demo.example.com" \
    --name "Demo ${role^}" >/dev/null 2>&1 || true
done

# A living product from the first run: customers with 18 months of billing history fed through
# the webhook path, tickets and a few failed jobs (DEMO_CUSTOMERS to change; a second run adds
# nothing).
"$BIN" seed-demo --customers "${DEMO_CUSTOMERS:-500}" --seed 1

cat <<MSG

  Ledgerline is starting at http://${LEPTOS_SITE_ADDR}  (demo mode: simulated Stripe and CRM)
  Database: ${DATABASE_URL}

  Sign in with any of these (password: ${DEMO_PASSWORD}):
    admin@demo.example.com     everything, including staff and the audit log
    billing@demo.example.com   billing actions
    support@demo.example.com   tickets and CRM pushes
    viewer@demo.example.com    read-only

  Stop with Ctrl-C.

MSG
exec "$BIN" serve
