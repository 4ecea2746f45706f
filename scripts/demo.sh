#!/usr/bin/env bash
# The demo: installs what it needs, builds vmctl and runs its main job on a
# lab of two real libvirt hosts on this machine. Needs root.
# Usage: sudo scripts/demo.sh [--hold]   (--hold keeps the lab until Ctrl-C)
set -euo pipefail
cd "$(dirname "$0")/.."
# sudo resets PATH; find the Rust toolchain of the user who called it.
source scripts/cargo-path.sh

bash scripts/setup-system.sh
cargo build --workspace --bins --quiet
export PATH="$PWD/target/debug:$PATH"
exec vmctl-lab demo "$@"
