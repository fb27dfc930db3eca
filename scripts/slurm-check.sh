#!/bin/bash
# Checks the Slurm path of docs/cluster.md for real: starts a private one-node Slurm cluster
# on this machine, submits scripts/cluster/sweep.sbatch as a job array of 4 shards of a small
# sweep, merges the shards in a dependent job, and compares the merged result (result.json,
# and every other file of the result directory) byte for byte with one process running the
# same sweep.
#
#   bash scripts/slurm-check.sh [--require-slurm]
#
# Needs Debian's slurm-wlm and munge (it installs nothing) and root (slurmd starts jobs as
# the submitting user). Everything it starts lives in a temporary directory: its own munge
# key and socket, its own slurm.conf (found through SLURM_CONF; /etc is not touched), its
# own ports; the daemons are stopped by their process ids when it ends. If Slurm cannot be
# used here (not installed, not root, or a daemon does not come up) it says exactly why and
# runs the same shards as separate processes of the same array script (xargs -P), with the
# environment Slurm would give them, so the sharding and the merge are still checked. With
# --require-slurm that fallback is a failure instead.
#
# Environment: MICROSIM  the binary to test (default: built with cargo build --release)
#              KEEP=1    keep the temporary directory (daemon logs, shards) afterwards
#
# Exit status: 0 the merged result is identical; 1 it differs, or a step failed.
set -euo pipefail

require_slurm=0
case "${1:-}" in
    --require-slurm) require_slurm=1 ;;
    "") ;;
    *) echo "usage: bash scripts/slurm-check.sh [--require-slurm]" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
started=$(date +%s)

# The experiment: 2 loads × 2 slowdowns of retry-storm.ron, 3 replications of 2 simulated
# minutes: 12 runs, about a second of simulation in all. In 4 shards: 3 runs each.
SHARDS_N=4
SWEEP=(sweep topologies/retry-storm.ron
    --vary 'workload[clients].arrivals.per_second=40,70'
    --vary 'faults[0].fault.factor=1.5,2'
    --reps 3 --duration 2m --target 'availability>=0.99')

if [ -z "${MICROSIM:-}" ]; then
    cargo build --release --quiet --bin microsim
    MICROSIM=$repo/target/release/microsim
fi
MICROSIM=$(cd "$(dirname "$MICROSIM")" && pwd)/$(basename "$MICROSIM")
export MICROSIM

work=$(mktemp -d /tmp/microsim-slurm-check.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

say() { echo "slurm-check: $*"; }

# ---- the reference: one process ---------------------------------------------------------
"$MICROSIM" "${SWEEP[@]}" --quiet --out "$work/whole" >"$work/whole.txt"

# ---- a one-node Slurm -------------------------------------------------------------------
# Sets `why` to the reason Slurm cannot be used here, or leaves it empty with the daemons
# running. (Run in this shell, not in $(…): the daemons' ids must reach the cleanup.)
why=""
start_slurm() {
    local cmd
    for cmd in munged slurmctld slurmd sbatch sinfo squeue; do
        if ! command -v "$cmd" >/dev/null; then
            why="$cmd is not installed (apt-get install slurm-wlm munge)"
            return
        fi
    done
    if [ "$(id -u)" != 0 ]; then
        why="not root: slurmd must run as root to start jobs as the submitting user"
        return
    fi
    local host port
    host=$(hostname -s)
    # Two free ports, away from the defaults (6817/6818) and from other checks running now.
    port=$((20000 + ($$ % 20000) * 2))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
        (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; do
        port=$((port + 2))
    done
    mkdir -p "$work/munge" "$work/slurm/ctld" "$work/slurm/d" "$work/log"
    chmod 700 "$work/munge"
    # A munge key of 1024 random bytes, readable by its owner only.
    head -c 1024 /dev/urandom >"$work/munge/munge.key"
    chmod 400 "$work/munge/munge.key"
    munged --foreground --force --key-file="$work/munge/munge.key" \
        --socket="$work/munge/socket" --pid-file="$work/munge/munged.pid" \
        --seed-file="$work/munge/seed" --log-file="$work/log/munged.log" \
        >"$work/log/munged.out" 2>&1 &
    pids+=($!)
    local i
    for i in $(seq 50); do
        [ -S "$work/munge/socket" ] && break
        sleep 0.1
    done
    if ! munge --socket="$work/munge/socket" -n 2>/dev/null |
        unmunge --socket="$work/munge/socket" >/dev/null 2>&1; then
        why="munged did not start: $(tail -n 3 "$work/log/munged.out" "$work/log/munged.log" 2>/dev/null | tr '\n' ' ')"
        return
    fi
    # No cgroup.conf beside slurm.conf: Slurm 22.05 has no CgroupPlugin=disabled, and without
    # the file slurmd starts with the proctrack and task plugins below, which need no cgroups.
    cat >"$work/slurm/slurm.conf" <<CONF
ClusterName=check$$
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=$work/slurm/ctld
SlurmdSpoolDir=$work/slurm/d
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$work/slurm/slurm.conf
    slurmctld -D -i >"$work/log/slurmctld.out" 2>&1 &
    pids+=($!)
    slurmd -D -N "$host" >"$work/log/slurmd.out" 2>&1 &
    local slurmd_pid=$!
    pids+=("$slurmd_pid")
    local state=""
    for i in $(seq 100); do
        state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
        [ "$state" = idle ] && return
        if ! kill -0 "$slurmd_pid" 2>/dev/null; then
            why="slurmd exited at start: $(grep -hiE 'error|fatal' "$work/log/slurmd.log" "$work/log/slurmd.out" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
            return
        fi
        sleep 0.2
    done
    why="the node did not become idle within 20 s (state '${state:-unknown}'): $(grep -hiE 'error|fatal' "$work/log/slurmd.log" "$work/log/slurmctld.log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"
}

start_slurm
mkdir -p "$work/run"
if [ -z "$why" ]; then
    export SLURM_CONF=$work/slurm/slurm.conf
    say "path: Slurm ($(sinfo -V), one node, ${SHARDS_N}-task job array)"
    # The documented script, submitted from the repository; shards and logs in $work/run.
    array=$(SHARDS=$work/run/shards sbatch --parsable --array=0-$((SHARDS_N - 1)) \
        --output="$work/run/%x-%A_%a.out" scripts/cluster/sweep.sbatch "${SWEEP[@]}")
    say "submitted array job $array"
    # The merge, as docs/cluster.md has it: a job that starts when every task has ended well,
    # and is cancelled (rather than left pending for ever) when one has not.
    merge=$(timeout 300 sbatch --wait --parsable --dependency="afterok:$array" \
        --kill-on-invalid-dep=yes --job-name=microsim-merge --output="$work/run/merge.out" \
        --wrap "\"$MICROSIM\" merge \"$work\"/run/shards/shard-*.json --out \"$work/run/merged\"" ||
        true)
    # Finished jobs stay known to the controller for 5 minutes (MinJobAge): read their ends.
    tasks=$(scontrol -o show job "$array" 2>/dev/null | grep -o 'JobId=[0-9]* ArrayJobId=[0-9]* ArrayTaskId=[0-9]*\|JobState=[A-Z_]*\|ExitCode=[0-9:]*' | paste -sd ' ' || true)
    merged=$(scontrol -o show job "${merge:-none}" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
    if [ "$merged" != JobState=COMPLETED ]; then
        say "FAILED: the merge job ${merge:-(not submitted or timed out)} ended ${merged:-unknown}; the array's tasks: $tasks"
        tail -n 5 "$work"/run/*.out 2>/dev/null || true
        exit 1
    fi
    ran=$(grep -h '^shard ' "$work"/run/microsim-sweep-*.out | wc -l)
    say "$ran array tasks ran under Slurm, then the merge job"
else
    if [ "$require_slurm" = 1 ]; then
        say "FAILED: Slurm cannot be used here: $why"
        exit 1
    fi
    say "Slurm cannot be used here: $why"
    say "path: fallback, the ${SHARDS_N} shards as separate processes (xargs -P $(nproc))"
    seq 0 $((SHARDS_N - 1)) | (cd "$repo" && SHARDS=$work/run/shards xargs -P "$(nproc)" -I{} \
        env SLURM_ARRAY_TASK_ID={} SLURM_ARRAY_TASK_COUNT=$SHARDS_N \
        bash scripts/cluster/sweep.sbatch "${SWEEP[@]}") >"$work/run/shards.out"
    "$MICROSIM" merge "$work"/run/shards/shard-*.json --out "$work/run/merged" >"$work/run/merge.out"
fi

# ---- the comparison ---------------------------------------------------------------------
files=$(ls "$work"/run/shards/shard-*.json | wc -l)
if [ "$files" != "$SHARDS_N" ]; then
    say "FAILED: $files shard files, expected $SHARDS_N"
    exit 1
fi
if cmp -s "$work/whole/result.json" "$work/run/merged/result.json" &&
    diff -rq "$work/whole" "$work/run/merged" >/dev/null; then
    say "OK: $SHARDS_N shards merged = one process, byte for byte: result.json ($(wc -c <"$work/whole/result.json") bytes) and all $(ls "$work/whole" | wc -l) files of the result directory, in $(($(date +%s) - started)) s"
else
    say "FAILED: the merged result differs from the single-process one"
    diff -rq "$work/whole" "$work/run/merged" | head -n 10 || true
    diff <(head -c 100000 "$work/whole/result.json") <(head -c 100000 "$work/run/merged/result.json") | head -n 20 || true
    exit 1
fi
