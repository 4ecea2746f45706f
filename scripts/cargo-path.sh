# Sourced by the scripts: puts cargo on PATH when sudo has dropped it
# (sudo's secure_path does not include ~/.cargo/bin).
if ! command -v cargo >/dev/null 2>&1; then
  for home in "${SUDO_USER:+$(getent passwd "$SUDO_USER" | cut -d: -f6)}" "$HOME" /root; do
    if [ -n "$home" ] && [ -x "$home/.cargo/bin/cargo" ]; then
      export PATH="$home/.cargo/bin:$PATH"
      # rustup keeps its toolchains beside cargo's home.
      [ -d "$home/.rustup" ] && export RUSTUP_HOME="${RUSTUP_HOME:-$home/.rustup}"
      export CARGO_HOME="${CARGO_HOME:-$home/.cargo}"
      break
    fi
  done
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "no Rust toolchain found (cargo); install one with rustup first" >&2
  exit 1
fi
