#!/usr/bin/env bash
# Fuzzes what strangers can send us for FUZZ_SECS seconds per target (default 60): the
# Stripe-Signature header, webhook bodies, the intake API body and the audit CSV export.
# The same targets run 256 cases each in every `scripts/test.sh`. A failure prints the
# shrunk input; fix it and keep it as a named regression case in app/src/server/fuzz.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECS=${FUZZ_SECS:-60}
export RUSTFLAGS="--cfg erase_components"
cargo test -p app --features ssr --release --lib server::fuzz -- --test-threads=1 --nocapture
