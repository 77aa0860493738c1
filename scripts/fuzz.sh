#!/usr/bin/env bash
# Coverage-guided fuzzing of archscope's input formats: cargo-fuzz (libFuzzer) on the stable
# toolchain, with no sanitizer (`-s none`: AddressSanitizer needs nightly's -Zsanitizer; Rust's
# own checks — bounds, overflow, debug assertions — stay on in the fuzz build).
#
#   scripts/fuzz.sh [RUNS] [TARGET...]     RUNS defaults to 1000000; TARGETs to all of them
#
# Each target starts from a corpus seeded with the shipped inputs of its format (the same seeds
# as the smoke run in tests/it/fuzz_smoke.rs), fuzz/seeds/TARGET and fuzz/regressions/TARGET,
# runs RUNS inputs with a 10 s limit per input and a 2 GiB memory cap, and prints the executions
# and the failures. A failing input is saved under fuzz/artifacts/TARGET/: add it to
# fuzz/regressions/TARGET/ with the fix, so the test suite replays it for ever.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000000}
shift || true
ALL=(hardware_toml runtime_toml hf_config gguf_header model_name onnx_bytes onnx_structured scalesim ofa
     sweep_size measurements merge_parquet)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# seed DIR PREFIX FILE...: copies each FILE into DIR with the one-byte PREFIX (octal escape, or
# empty) that the target uses to pick the format.
seed() {
  local dir=$1 prefix=$2; shift 2
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] || continue
    { printf "$prefix"; cat "$f"; } > "$dir/$(basename "$f")"
  done
}

for t in "${TARGETS[@]}"; do
  c=fuzz/corpus/$t
  mkdir -p "$c"
  case $t in
    hardware_toml) seed "$c" "" hardware-db/*.toml ;;
    runtime_toml) seed "$c" "" runtimes/*.toml ;;
    hf_config) seed "$c" "" workloads/*.json ;;
    onnx_bytes) seed "$c" "" tests/data/*.onnx ;;
    scalesim)
      seed "$c" "" tests/data/scalesim/topologies/*.csv
      for cfg in tests/data/scalesim/configs/*.cfg; do
        { cat "$cfg"; printf '\0'; cat tests/data/scalesim/topologies/conv_cases.csv; } \
          > "$c/$(basename "$cfg").with-topology"
      done ;;
    measurements) seed "$c" '\0' data/measurements/measurements.csv ;;
    ofa)
      # The released OFA files, where the reference data sits beside the repository.
      seed "$c" '\2' ../shared/ofa/*.config
      seed "$c" '\3' ../shared/ofa/*lookup_table.yaml ;;
  esac
  [ -d fuzz/seeds/$t ] && cp fuzz/seeds/$t/* "$c/" 2>/dev/null
  [ -d fuzz/regressions/$t ] && cp fuzz/regressions/$t/* "$c/" 2>/dev/null
done

(cd fuzz && cargo fuzz build -s none 2>&1 | tail -2) || exit 1
mkdir -p fuzz/logs
printf '%-16s %12s %10s %8s %s\n' target executions exec/s seconds result
status=0
for t in "${TARGETS[@]}"; do
  start=$(date +%s)
  (cd fuzz && cargo fuzz run -s none "$t" "corpus/$t" -- -runs="$RUNS" -rss_limit_mb=2048 \
     -timeout=10 -max_len=262144 -print_final_stats=1 -close_fd_mask=1) > "fuzz/logs/$t.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -eq 0 ]; then result=ok; else result="FAILED (rc $rc; see fuzz/logs/$t.log, fuzz/artifacts/$t/)"; status=1; fi
  printf '%-16s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$result"
done
exit $status
