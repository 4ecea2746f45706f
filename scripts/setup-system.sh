#!/usr/bin/env bash
# Installs, when missing, everything vmctl's build, lab and tests need on a
# Debian 12 machine, and prepares the artefacts test guests boot from.
# Idempotent and quiet when all is in place. Needs root.
set -euo pipefail

PACKAGES=(
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
  pkg-config qemu-system-x86 qemu-utils openssh-server openssh-client
  iproute2 gnutls-bin openssl util-linux procps cpio sudo
)
CACHE=${VMCTL_LAB_CACHE:-/var/cache/vmctl-lab}

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs Debian packages and runs lab hosts)"
  exit 1
fi

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
      || printf '%s\n' "$p"
  done
}

install_packages() {
  local missing
  missing=$(missing_packages)
  [ -z "$missing" ] && return 0
  log "installing: $(echo $missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # qemu-system-x86 may replace qemu-utils with an older one; keep it installed.
  missing=$(missing_packages)
  # shellcheck disable=SC2086
  [ -z "$missing" ] || apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

ensure_accounts() {
  # libvirtd's QEMU driver refuses to start without these accounts.
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null \
    || useradd --system --no-create-home --shell /usr/sbin/nologin \
         -g libvirt-qemu -G kvm libvirt-qemu
  mkdir -p /run/sshd /etc/pki
}

# Unpacks a Debian package into DIR without installing it.
unpack_deb() {
  local pkg=$1 dir=$2 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) || {
    apt-get update -qq && (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null)
  }
  dpkg -x "$tmp"/*.deb "$dir"
  rm -rf "$tmp"
}

prepare_stock_config() {
  # Debian's stock, fully commented libvirtd.conf, as a fresh host has it.
  [ -s "$CACHE/stock/libvirtd.conf" ] && return 0
  log "fetching Debian's stock libvirtd.conf"
  local tmp
  tmp=$(mktemp -d)
  unpack_deb libvirt-daemon-system "$tmp"
  mkdir -p "$CACHE/stock"
  cp "$tmp/etc/libvirt/libvirtd.conf" "$CACHE/stock/libvirtd.conf"
  rm -rf "$tmp"
}

prepare_guest_boot() {
  # A kernel and a busybox initramfs for busy test guests, no download of
  # anything but Debian packages.
  # Bump GUEST_VERSION when the initramfs changes, so machines rebuild it.
  local GUEST_VERSION=2
  [ -s "$CACHE/guest/vmlinuz" ] && [ -s "$CACHE/guest/initrd.img" ] \
    && [ "$(cat "$CACHE/guest/version" 2>/dev/null)" = "$GUEST_VERSION" ] && return 0
  log "building the test guest's kernel and initramfs"
  local tmp root
  tmp=$(mktemp -d)
  unpack_deb linux-image-cloud-amd64 "$tmp/meta"
  local kpkg
  kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  unpack_deb "$kpkg" "$tmp/kernel"
  unpack_deb busybox-static "$tmp/busybox"
  mkdir -p "$CACHE/guest"
  cp "$tmp"/kernel/boot/vmlinuz-* "$CACHE/guest/vmlinuz"

  root="$tmp/initramfs"
  mkdir -p "$root"/{bin,dev,proc,sys,tmp,run}
  cp "$tmp/busybox/bin/busybox" "$root/bin/busybox"
  cat > "$root/init" <<'INIT'
#!/bin/busybox sh
# Test guest: keeps rewriting DIRTY_MB of tmpfs so a live move has work to do.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mb=64
pause=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vmctl_dirty_mb=*) mb=${arg#vmctl_dirty_mb=} ;;
    vmctl_pause=*) pause=${arg#vmctl_pause=} ;;
  esac
done
mount -t tmpfs -o size=$((mb + 8))m tmpfs /run
echo "vmctl-test-guest: dirtying ${mb} MiB" > /dev/console
i=0
while true; do
  dd if=/dev/urandom of=/run/dirty bs=1M count="$mb" conv=notrunc 2>/dev/null
  i=$((i + 1))
  echo "vmctl-test-guest: pass $i" > /dev/console
  [ "$pause" = 0 ] || sleep "$pause"
done
INIT
  chmod 0755 "$root/init"
  (cd "$root" && find . | "$tmp/busybox/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) \
    > "$CACHE/guest/initrd.img"
  echo "$GUEST_VERSION" > "$CACHE/guest/version"
  rm -rf "$tmp"
}

probe_kvm() {
  # /dev/kvm can exist and still not run a Linux guest (nested KVM on some
  # clouds hangs in early boot). Boot the test kernel once under KVM and
  # record which domain type lab guests should use.
  [ -s "$CACHE/guest/virt-type" ] && return 0
  local out kind=qemu
  out=$(mktemp)
  if [ -w /dev/kvm ]; then
    log "probing whether KVM runs the test guest (up to 20 s)"
    timeout 20 qemu-system-x86_64 -enable-kvm -m 128 -display none -monitor none \
      -no-reboot -kernel "$CACHE/guest/vmlinuz" -initrd "$CACHE/guest/initrd.img" \
      -append "console=ttyS0 vmctl_dirty_mb=1" -serial "file:$out" >/dev/null 2>&1 || true
    grep -q vmctl-test-guest "$out" && kind=kvm
  fi
  rm -f "$out"
  [ "$kind" = kvm ] || log "KVM does not boot the test guest here; lab guests use TCG"
  echo "$kind" > "$CACHE/guest/virt-type"
}

install_packages
ensure_accounts
prepare_stock_config
prepare_guest_boot
probe_kvm
