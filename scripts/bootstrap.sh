#!/usr/bin/env bash
# Installs what archscope's build needs on a fresh Debian/Ubuntu machine, and says what it does.
# Safe to run again: it installs only what is missing.
#   - cmake and libclang-dev: good_lp's HiGHS backend compiles HiGHS from source (cmake) and
#     generates its bindings with bindgen (libclang).
#   - libfontconfig and a font (DejaVu): the PNG charts of `explore` render text with them.
#   - a Rust toolchain, via rustup, if cargo is absent.
# With --chromium it also installs Debian's chromium, used by the report rendering test.
# With --python it also makes the repo's Python venv (.venv) for scripts/test.sh.
# With --slurm it also installs Debian's slurm-wlm and munge, for the test that runs the Slurm
# recipe on a single-node Slurm (tests/it/slurm.rs; it starts its own daemons and stops them).
set -euo pipefail

want_chromium=0
want_python=0
want_slurm=0
for a in "$@"; do
  case "$a" in
    --chromium) want_chromium=1 ;;
    --python) want_python=1 ;;
    --slurm) want_slurm=1 ;;
    *) echo "bootstrap: unknown option $a" >&2; exit 2 ;;
  esac
done

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
# bindgen loads libclang itself (libclang.so, libclang.so.N or libclang-N.so*). libclang-cpp.so is a
# different library (the C++ API) that many machines carry without libclang: it must not count.
# With folders as arguments it looks only there (scripts/test-bootstrap.sh uses that).
has_libclang() {
  local d f dirs=("$@")
  if [ ${#dirs[@]} -eq 0 ]; then
    dirs=(${LIBCLANG_PATH:-} /usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib /usr/local/lib)
  fi
  for d in "${dirs[@]}"; do
    [ -d "$d" ] || continue
    for f in "$d"/libclang.so "$d"/libclang.so.[0-9]* "$d"/libclang-[0-9]*.so*; do
      [ -e "$f" ] && return 0
    done
  done
  return 1
}
# Sourced by the test: define the checks, install nothing.
[ "${BOOTSTRAP_DEFINE_ONLY:-0}" = 1 ] && return 0
has_libclang || missing+=(libclang-dev)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
pkg-config --exists fontconfig 2>/dev/null || missing+=(libfontconfig1-dev pkg-config)
# PNG charts draw their text with a system font found through fontconfig.
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list 2>/dev/null | head -n 1)" ]; then
  missing+=(fontconfig fonts-dejavu-core)
fi
# Without cargo, rustup is fetched with curl, which a minimal Debian lacks.
if ! command -v cargo >/dev/null 2>&1 && ! command -v curl >/dev/null 2>&1; then
  missing+=(curl ca-certificates)
fi
# The Python package's tests need python3 with venv and pip (Debian splits them out).
if [ "$want_python" = 1 ] && { ! command -v python3 >/dev/null 2>&1 || ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; }; then
  missing+=(python3 python3-venv python3-pip)
fi
if [ "$want_chromium" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ "$want_slurm" = 1 ] && ! { command -v slurmctld && command -v munged; } >/dev/null 2>&1; then
  missing+=(slurm-wlm munge)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]} with apt-get"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "bootstrap: system packages already present"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "bootstrap: installing the Rust toolchain with rustup"
  # rustup-init straight from static.rust-lang.org (the host that also serves the toolchains):
  # sh.rustup.rs only redirects there, and some networks resolve one but not the other.
  arch=$(uname -m)
  # It must keep its name: rustup decides what to be from the name it is run under.
  tmp=$(mktemp -d)
  curl --proto '=https' --tlsv1.2 -sSf -o "$tmp/rustup-init" \
    "https://static.rust-lang.org/rustup/dist/${arch}-unknown-linux-gnu/rustup-init"
  chmod +x "$tmp/rustup-init"
  "$tmp/rustup-init" -y --profile minimal
  rm -rf "$tmp"
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
# The Python package (scripts/test.sh), with --python: a venv under the repo (.venv, ignored by
# git) with the pinned packages of python/requirements-dev.txt (maturin, pytest, polars, the
# notebook's), so nothing is installed system-wide. pip installs only what is missing.
if [ "$want_python" = 1 ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  if [ ! -x "$root/.venv/bin/python" ]; then
    echo "bootstrap: creating the Python venv $root/.venv"
    python3 -m venv "$root/.venv"
  fi
  "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$root/python/requirements-dev.txt"
  echo "bootstrap: Python venv ready ($("$root/.venv/bin/python" --version))"
fi
echo "bootstrap: ready ($(cargo --version))"
