#!/usr/bin/env bash
# The README's set-up, tried as a new user would: builds a clean Debian root with debootstrap,
# puts a clean clone of this repository's HEAD in it, runs the README's two commands literally
# inside it (chroot, with /proc, /sys and /dev mounted; no ../shared beside the clone, as in a
# user's clone) and prints the wall time of each. It needs root, debootstrap and Debian's
# package mirror (and, for rustup and crates.io, the internet registries).
#
#   sudo scripts/fresh-machine-check.sh            # FRESH_ROOT, SUITE and MIRROR may be set
#
# Too long for CI (a cold build is most of half an hour on 2 cores): run it before resolving a
# set-up issue and after any change to the set-up, and put the times in README. CI instead runs
# scripts/test-bootstrap.sh, a fast test of bootstrap's prerequisite detection.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${FRESH_ROOT:-/var/tmp/archscope-fresh}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
LOG=${LOG:-$ROOT.log}

[ "$(id -u)" -eq 0 ] || { echo "fresh-machine-check: run as root (chroot and mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh-machine-check: apt-get install debootstrap" >&2; exit 2; }

# The README's two commands: the first line of the sh block after "Run the main job" and after
# "Run the tests".
readme_cmd() {
  awk -v head="$1" 'index($0, head) == 1 {f = 1} f && /^```sh/ {getline; print; exit}' "$repo/README.md"
}
main_cmd=$(readme_cmd "Run the main job")
test_cmd=$(readme_cmd "Run the tests")
[ -n "$main_cmd" ] && [ -n "$test_cmd" ] || { echo "fresh-machine-check: README commands not found" >&2; exit 1; }

mounted=()
cleanup() {
  for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
}
trap cleanup EXIT

for m in proc sys dev; do umount -l "$ROOT/$m" 2>/dev/null || true; done
rm -rf "$ROOT"
t0=$(date +%s)
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" > "$LOG" 2>&1
t_root=$(( $(date +%s) - t0 ))
git clone -q --no-local "$repo" "$ROOT/root/archscope"
# The network settings a machine of this kind comes with: its DNS resolver and any local CA
# certificates (a network whose egress proxy signs TLS with its own CA needs them; Debian's
# ca-certificates, which bootstrap installs, adds them to the system bundle).
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
fi
mount -t proc proc "$ROOT/proc"; mounted+=("$ROOT/proc")
mount --rbind /sys "$ROOT/sys"; mounted+=("$ROOT/sys")
mount --rbind /dev "$ROOT/dev"; mounted+=("$ROOT/dev")

run_in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /root/archscope && $1" >> "$LOG" 2>&1
}

echo "fresh-machine-check: Debian $SUITE root built in ${t_root} s; log in $LOG"
status=0
for which in main test; do
  cmd=$main_cmd; [ $which = test ] && cmd=$test_cmd
  echo "fresh-machine-check: $which: $cmd"
  t0=$(date +%s)
  if run_in_root "$cmd"; then result=ok; else result="FAILED (see $LOG)"; status=1; fi
  echo "fresh-machine-check: $which: $result in $(( $(date +%s) - t0 )) s"
  [ $status -eq 0 ] || break
done
exit $status
