#!/usr/bin/env bash
# Builds the server packages, vigiad_*.deb and vigiad-*.rpm, from a clean clone.
#
#     packaging/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $CARGO_TARGET_DIR/packages (target/packages). cargo-deb and
# cargo-generate-rpm are installed with `cargo install --locked` when missing. The daemon is
# compiled once, in the release profile, and both packages take that same binary.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="${1:-$CARGO_TARGET_DIR/packages}"

# Versions known to read the metadata in server/Cargo.toml as intended.
CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1

step() { printf '==> %s\n' "$*" >&2; }

if ! cargo deb --version >/dev/null 2>&1; then
    step "installing cargo-deb $CARGO_DEB_VERSION"
    cargo install --locked "cargo-deb@$CARGO_DEB_VERSION"
fi
if ! cargo generate-rpm --version >/dev/null 2>&1; then
    step "installing cargo-generate-rpm $CARGO_GENERATE_RPM_VERSION"
    cargo install --locked "cargo-generate-rpm@$CARGO_GENERATE_RPM_VERSION"
fi

step "building vigiad (release)"
cargo build --release --locked -p vigiad --bin vigiad
bin="$CARGO_TARGET_DIR/release/vigiad"
# cargo-generate-rpm packages the binary as it is; strip it here so that both packages carry
# the same small binary (cargo-deb would strip its own copy anyway).
strip --strip-all "$bin"

mkdir -p "$out"
rm -f "$out"/vigiad_*.deb "$out"/vigiad-*.rpm

step "building the deb"
cargo deb -p vigiad --no-build --no-strip --output "$out"

step "building the rpm"
cargo generate-rpm -p server --output "$out"

step "packages in $out:"
ls -l "$out"/vigiad_*.deb "$out"/vigiad-*.rpm >&2
