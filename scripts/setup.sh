#!/usr/bin/env bash
# Installs what building and testing Ledgerline needs, skipping whatever is already there.
#   scripts/setup.sh build   → wasm target, cargo-leptos, wasm-bindgen CLI
#   scripts/setup.sh test    → the above, plus Chromium (Debian) and the browser-test packages
# Parts, for scripts/test.sh, which runs the slow ones in the background: target (the wasm
# target), tools (cargo-leptos and the wasm-bindgen CLI), browser (Chromium and packages).
# Everything comes from crates.io, npm or Debian: cargo-leptos must never download tools itself.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-build}
CARGO_LEPTOS_VERSION=0.3.10        # 0.3.11 needs rustc 1.96
# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

want() { case "$what" in "$1") return 0 ;; build) [ "$1" != browser ] ;; test) return 0 ;; *) return 1 ;; esac; }

if want target && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Tools are built without LTO: they run a handful of times, and LTO triples their build time.
# Their own temporary target dir: a shared CARGO_TARGET_DIR would hold its build lock for the
# whole install, stalling the lints and tests that scripts/test.sh builds meanwhile.
fast_install() {
  env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install "$@"
}
# cargo-leptos is the slowest build of a cold run (swc, lightningcss, a vendored OpenSSL) and
# its own work per build is small (spawning cargo, one stylesheet), so it is built unoptimised
# and without debug info.
# Where the system has OpenSSL's headers (this machine kind does), openssl-sys links it instead
# of compiling the copy cargo-generate asks for.
debug_install() {
  local no_vendor=
  pkg-config --exists openssl 2>/dev/null && no_vendor=1
  env -u CARGO_TARGET_DIR CARGO_PROFILE_DEV_DEBUG=0 ${no_vendor:+OPENSSL_NO_VENDOR=1} \
    cargo install --debug "$@"
}

if want tools && [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (first time only, several minutes)"
  debug_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if want tools && [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  fast_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if want browser; then
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Chromium from Debian's packages"
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
  fi
  if [ ! -d end2end/node_modules/playwright-core ]; then
    say "installing browser-test packages (npm ci)"
    (cd end2end && npm ci --no-audit --no-fund --silent)
  fi
fi
