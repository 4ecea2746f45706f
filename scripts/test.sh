#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian packages, test guest
# artefacts), builds the workspace and runs every test, lab tests included.
# Needs root. Usage: sudo scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
# sudo resets PATH; find the Rust toolchain of the user who called it.
source scripts/cargo-path.sh

bash scripts/setup-system.sh
cargo build --workspace --bins --quiet

# Tests clean up after themselves: a lab namespace that appears during the
# run and outlives it is a failure (labs others run at the same time, and
# those there before, are not ours to judge).
labs() { ip netns list | awk '/^vmlab/ {print $1}' | sort; }
before=$(labs)
cargo test --workspace --no-fail-fast "$@"
for _ in $(seq 20); do
  left=$(comm -13 <(echo "$before") <(labs) | tr '\n' ' ')
  [ -z "${left// }" ] && exit 0
  sleep 1
done
echo "test.sh: lab namespaces left behind: $left" >&2
exit 1
