#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian packages, test guest
# artefacts), builds the workspace and runs every test, lab tests included.
# Needs root. Usage: sudo scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
cargo build --workspace --bins --quiet
cargo test --workspace "$@"

# Tests clean up after themselves; a lab left behind is a failure.
left=$(ip netns list | awk '/^vmlab/ {print $1}')
if [ -n "$left" ]; then
  echo "test.sh: lab namespaces left behind: $left" >&2
  exit 1
fi
