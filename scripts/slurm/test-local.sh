#!/usr/bin/env bash
# Runs scripts/slurm/explore-array.sbatch on a single-node Slurm started here
# (scripts/slurm/local-cluster.sh), next to the same sweep in one process, and leaves everything
# for tests/it/slurm.rs to compare:
#   WORK/whole/          the single-process report
#   WORK/run/report/     the report merged by the Slurm merge job from 4 array tasks
#   WORK/bad-*/          merge jobs over a missing, a duplicated and a foreign part: each must
#                        fail; WORK/bad-*/state holds its final job state, logs/ its log
#   WORK/failing/        a run whose shards fail: states holds its jobs' final states
#   WORK/figures.txt     points, wall times (single process; submission to merge end; merge
#                        alone) and the jobs' states and start and end times
# Usage: test-local.sh ARCHSCOPE_BINARY WORK_DIR
# Exit 77: Slurm or munge is not installed, or the cluster cannot start (the log says why).
# Every wait has a limit; the daemons are stopped on any exit.
set -euo pipefail

archscope=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
shards=4
hw=pixel8
model=llama-1b
# The default knobs (11 quantizations, 9 × 9 units, 5 contexts) × 32 DRAM bandwidths: 142,560 points.
args="--sweep memory[dram].bytes_per_s=25e9..200e9:32:log"
wait_limit=${SLURM_TEST_WAIT_S:-600}

# shellcheck source=local-cluster.sh
source "$here/local-cluster.sh"
mkdir -p "$work"
work=$(cd "$work" && pwd)
trap 'local_slurm_stop' EXIT
trap 'exit 143' TERM INT
rc=0
local_slurm_start "$work/cluster" || rc=$?
if [ "$rc" -ne 0 ]; then
  [ "$rc" -eq 77 ] && exit 77
  echo "test-local: the local Slurm did not start (logs in $work/cluster/log)" >&2
  exit 77
fi

now() { date +%s.%N; }

# "JOBID ARRAYJOB_TASK START END STATE" of each job (array tasks one by one; times to the
# second) of the one-line records of `scontrol show job -o`.
job_states() {
  sed -E -n 's/^JobId=([0-9]+) (ArrayJobId=([0-9]+) ArrayTaskId=([0-9]+) )?.* JobState=([A-Z_]+) .* StartTime=[0-9-]*T?([0-9:]*|Unknown|None) EndTime=[0-9-]*T?([0-9:]*|Unknown|None) .*$/\1 \3_\4 \6 \7 \5/p'
}

# Final states of the jobs, waiting until none is pending or running (a job scontrol cannot
# show yet counts as pending).
wait_jobs() {
  local start states out j busy
  start=$(date +%s)
  while :; do
    states="" busy=0
    for j in "$@"; do
      if out=$(scontrol show job -o "$j" 2>/dev/null) && [ -n "$out" ]; then
        states+=$(job_states <<<"$out")$'\n'
      else
        busy=1
      fi
    done
    if [ $busy = 0 ] && ! grep -Eq ' (PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING)$' <<<"$states"; then
      printf '%s' "$states"
      return 0
    fi
    if [ $(($(date +%s) - start)) -gt "$wait_limit" ]; then
      echo "test-local: jobs $* still not finished after ${wait_limit}s:" >&2
      printf '%s' "$states" >&2
      return 1
    fi
    sleep 0.2
  done
}

# The single-process run.
t0=$(now)
set -f
# shellcheck disable=SC2086
"$archscope" explore --hw "$hw" --model "$model" $args --out "$work/whole" --quiet >"$work/whole.out"
set +f
t1=$(now)

# The Slurm run: 4 array tasks, then the merge.
SHARDS=$shards HW=$hw MODEL=$model EXPLORE_ARGS=$args OUT_DIR=$work/run ARCHSCOPE=$archscope \
  TIME_LIMIT=00:10:00 bash "$here/explore-array.sbatch"
# shellcheck disable=SC1091
source "$work/run/jobs.env"
states=$(wait_jobs "$ARRAY_JOB" "$MERGE_JOB")
t2=$(now)
# The merge alone, in one process, on the same parts (the Slurm merge job's share).
mapfile -t names < <(seq -f "$work/run/parts/part-%g-of-$shards.parquet" 0 $((shards - 1)))
"$archscope" merge "${names[@]}" --out "$work/local-merge" >/dev/null
t3=$(now)
{
  echo "points $(($(wc -l <"$work/whole/points.csv") - 1))"
  echo "single_process_s $(awk "BEGIN {printf \"%.2f\", $t1 - $t0}")"
  echo "slurm_${shards}_shards_s $(awk "BEGIN {printf \"%.2f\", $t2 - $t1}")"
  echo "local_merge_s $(awk "BEGIN {printf \"%.2f\", $t3 - $t2}")"
  echo "submitted $(date -d "@$t1" +%T.%2N)"
  echo "cpus $(nproc)"
  echo "$states" | sed 's/^/job /'
} >"$work/figures.txt"
cat "$work/figures.txt"

# Bad parts under Slurm: the merge job alone over a copy of the parts with one removed, one
# duplicated (part 0 under part 1's name) and one from another run (another sweep's shard 1).
parts=$work/run/parts
set -f
# shellcheck disable=SC2086
"$archscope" explore --hw "$hw" --model "$model" $args --sweep unit[gpu].peak_ops_per_s.f16=1e12,2e12 \
  --shard "1/$shards" --out "$work/foreign" --quiet >/dev/null
set +f
merges=()
for bad in missing duplicate foreign; do
  d=$work/bad-$bad
  mkdir -p "$d/parts"
  cp "$parts"/part-*-of-$shards.parquet "$d/parts/"
  case $bad in
    missing) rm "$d/parts/part-2-of-$shards.parquet" ;;
    duplicate) cp "$parts/part-0-of-$shards.parquet" "$d/parts/part-1-of-$shards.parquet" ;;
    foreign) cp "$work/foreign/part-1-of-$shards.parquet" "$d/parts/part-1-of-$shards.parquet" ;;
  esac
  SHARDS=$shards OUT_DIR=$d ARCHSCOPE=$archscope TIME_LIMIT=00:10:00 \
    bash "$here/explore-array.sbatch" merge >/dev/null
  merges+=("$(sed -n 's/^MERGE_JOB=//p' "$d/jobs.env")")
done
# A failing shard (a --sweep explore rejects): the array task fails, and the merge job, whose
# afterok dependency can never be met, is cancelled rather than left pending.
SHARDS=2 EXPLORE_ARGS="--sweep nonsense" OUT_DIR=$work/failing ARCHSCOPE=$archscope \
  TIME_LIMIT=00:10:00 bash "$here/explore-array.sbatch" >/dev/null
# shellcheck disable=SC1091
failing=($(source "$work/failing/jobs.env" && echo "$ARRAY_JOB $MERGE_JOB"))
states=$(wait_jobs "${merges[@]}" "${failing[@]}")
grep -E "^[0-9]+ ${failing[0]}_[0-9]+ |^${failing[1]} " <<<"$states" | sed 's/^/job /' >"$work/failing/states"
echo "failing shard:"
cat "$work/failing/states"
i=0
for bad in missing duplicate foreign; do
  grep "^${merges[$i]} " <<<"$states" | awk '{print $NF}' >"$work/bad-$bad/state"
  echo "bad part ($bad): merge job ${merges[$i]} $(cat "$work/bad-$bad/state")"
  i=$((i + 1))
done
