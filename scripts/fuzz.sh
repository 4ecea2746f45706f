#!/bin/sh
# Runs every fuzz target for a bounded time, like a benchmark: one line per
# target with its runs and whether it crashed. Crash inputs stay under
# fuzz/artifacts/TARGET/ to be turned into regression tests.
#
#   scripts/fuzz.sh            # each target 60 s
#   FUZZ_SECONDS=10 scripts/fuzz.sh inventory size
#
# Needs a nightly toolchain (libFuzzer and sanitizers); installs cargo-fuzz
# when missing.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=${*:-"inventory pem size guest_xml"}

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz.sh: needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi

# Seeds: the example inventories, and small valid inputs of each kind.
seed() {
  mkdir -p "fuzz/corpus/$1"
  printf '%s' "$3" > "fuzz/corpus/$1/$2"
}
mkdir -p fuzz/corpus/inventory
for f in examples/*.toml; do
  [ -e "$f" ] && cp "$f" fuzz/corpus/inventory/
done
seed size mib 512M
seed size gib 1GiB
seed guest_xml domain "<domain type='kvm'><name>g</name><memory unit='KiB'>524288</memory><vcpu current='1'>2</vcpu><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda'/></disk></devices></domain>"
seed pem header "-----BEGIN CERTIFICATE-----
MAA=
-----END CERTIFICATE-----"

# Build first, so that a build failure is not mistaken for a crash.
if ! cargo +nightly fuzz build >fuzz/build.log 2>&1; then
  echo "fuzz.sh: the fuzz targets do not build; see fuzz/build.log" >&2
  exit 2
fi

status=0
for target in $targets; do
  log=fuzz/artifacts/$target.log
  mkdir -p "fuzz/artifacts/$target"
  if cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 >"$log" 2>&1; then
    verdict=ok
  else
    verdict="CRASHED (see $log and fuzz/artifacts/$target/)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  printf '%-10s %4ss %10s runs  %s\n' "$target" "$seconds" "${runs:-?}" "$verdict"
done
exit $status
