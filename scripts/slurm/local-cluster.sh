#!/usr/bin/env bash
# A throw-away single-node Slurm on this machine, for testing the Slurm recipe: a private munged,
# slurmctld and slurmd on localhost, each in the foreground as a child of this script, with their
# configuration, state, spool, sockets and logs in one directory. No cgroups
# (proctrack/linuxproc, task/none), no accounting database, no systemd, ports picked free.
#
#   source scripts/slurm/local-cluster.sh
#   local_slurm_start DIR   # 0: up (SLURM_CONF exported); 77: Slurm or munge missing;
#                           # 1: a daemon failed to start (its log is printed)
#   local_slurm_stop        # cancels the jobs and ends the three daemons by their process ids
#
# Needs root (SlurmUser=root) and Debian's slurm-wlm and munge (slurmctld, slurmd, munged).

LOCAL_SLURM_PIDS=()

# The first TCP port from $1 upwards that nothing listens on.
local_slurm_free_port() {
  local p=$1
  while ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  echo "$p"
}

# Waits up to $2 seconds for the command "$3..." to succeed; $1 names what is awaited.
local_slurm_wait() {
  local what=$1 limit=$2 t=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    t=$((t + 1))
    if [ "$t" -gt "$limit" ]; then
      echo "local-slurm: $what not ready after ${limit}s" >&2
      return 1
    fi
    sleep 1
  done
}

local_slurm_start() {
  local dir=$1 missing=() tool
  for tool in munged slurmctld slurmd sbatch scontrol; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "local-slurm: ${missing[*]} not installed (Debian: apt-get install slurm-wlm munge)" >&2
    return 77
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "local-slurm: needs root (the daemons run as SlurmUser=root)" >&2
    return 77
  fi
  mkdir -p "$dir"/{state,spool,log,munge}
  dir=$(cd "$dir" && pwd)
  chmod 700 "$dir/munge"
  # A private munge key and socket: nothing of the machine's own munge is touched.
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged -F -f --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" >>"$dir/log/munged.out" 2>&1 &
  LOCAL_SLURM_PIDS+=($!)
  if ! local_slurm_wait munged 20 test -S "$dir/munge/munge.socket"; then
    cat "$dir/log/munged.out" "$dir/log/munged.log" >&2 2>/dev/null
    local_slurm_stop
    return 1
  fi
  local ctld_port slurmd_port cpus mem
  ctld_port=$(local_slurm_free_port $((20000 + $$ % 20000)))
  slurmd_port=$(local_slurm_free_port $((ctld_port + 1)))
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=archscope-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -D -i -f "$SLURM_CONF" >>"$dir/log/slurmctld.out" 2>&1 &
  LOCAL_SLURM_PIDS+=($!)
  slurmd -D -N localhost -f "$SLURM_CONF" >>"$dir/log/slurmd.out" 2>&1 &
  LOCAL_SLURM_PIDS+=($!)
  if ! local_slurm_wait "the node" 60 local_slurm_node_up; then
    tail -n 30 "$dir"/log/slurm*.out "$dir"/log/slurm*.log >&2 2>/dev/null
    local_slurm_stop
    return 1
  fi
}

# The node is idle (or mixed/allocated) and accepts jobs.
local_slurm_node_up() {
  scontrol show node localhost 2>/dev/null | grep -Eq 'State=(IDLE|MIXED|ALLOCATED)'
}

local_slurm_stop() {
  if [ -n "${SLURM_CONF:-}" ]; then
    scancel --full --quiet --user=root >/dev/null 2>&1 || true
    # Give running steps a moment to end before slurmd goes.
    local t=0
    while [ $t -lt 10 ] && squeue -h 2>/dev/null | grep -q .; do sleep 1; t=$((t + 1)); done
  fi
  local i pid
  # slurmd, slurmctld, then munged: the reverse of the start.
  for ((i = ${#LOCAL_SLURM_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${LOCAL_SLURM_PIDS[$i]}
    kill "$pid" 2>/dev/null || continue
    t=0
    while kill -0 "$pid" 2>/dev/null && [ $t -lt 20 ]; do sleep 0.5; t=$((t + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  LOCAL_SLURM_PIDS=()
}
