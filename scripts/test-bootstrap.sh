#!/usr/bin/env bash
# Tests bootstrap.sh's prerequisite detection without installing anything: libclang is found by
# its own file names, and libclang-cpp alone (the C++ API library many machines carry) is not
# libclang. Run by CI before the build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BOOTSTRAP_DEFINE_ONLY=1 source "$here/bootstrap.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect found|missing FILE...
  local want="$1" d
  shift
  d="$(mktemp -d -p "$tmp")"
  for f in "$@"; do touch "$d/$f"; done
  if has_libclang "$d"; then got=found; else got=missing; fi
  if [ "$got" != "$want" ]; then
    echo "test-bootstrap: with {$*} libclang was $got, expected $want" >&2
    fail=1
  fi
}
expect missing
expect missing libclang-cpp.so.14
expect missing libclang-cpp.so libclang-cpp.so.14
expect found libclang.so
expect found libclang.so.1
expect found libclang-14.so.1
expect found libclang-cpp.so.14 libclang-14.so.1
[ "$fail" = 0 ] && echo "test-bootstrap: libclang detection ok (7 cases)"
exit "$fail"
