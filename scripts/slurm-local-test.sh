#!/usr/bin/env bash
# Runs a small sweep through deploy/slurm/sweep.sbatch on a one-node Slurm started here
# (Debian's slurm-wlm and munge: apt-get install -y slurm-wlm munge), with a task requeued
# while it runs and another cancelled (SIGTERM) and re-submitted, and checks that the merge
# is byte for byte the one-machine result, that the requeued task's log was appended to, and
# that a disagreeing ADBANDIT_SHARD_COUNT is refused. Stops the daemons it started.
# Skips (exit 0) when Slurm or munge is not installed. Needs root (the daemons run as root).
#
#   scripts/slurm-local-test.sh            # builds target/debug/adbandit
#   BIN=target/release/adbandit scripts/slurm-local-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

for cmd in slurmctld slurmd munged sbatch squeue scontrol scancel; do
  if ! command -v "$cmd" >/dev/null; then
    echo "slurm-local-test: SKIPPED ($cmd not found; apt-get install -y slurm-wlm munge)"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ]; then
  echo "slurm-local-test: SKIPPED (needs root to run slurmctld/slurmd here)"
  exit 0
fi

if [ -z "${BIN:-}" ]; then
  cargo build --quiet -p adbandit-cli --bin adbandit
  BIN="$ROOT/target/debug/adbandit"
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

T="$(mktemp -d /tmp/adbandit-slurm.XXXXXX)"
mkdir -p "$T/state" "$T/spool" "$T/logs"
export SLURM_CONF="$T/slurm.conf"
STARTED_MUNGE=""
cleanup() {
  scontrol shutdown >/dev/null 2>&1 || true
  sleep 1
  for f in "$T/slurmd.pid" "$T/slurmctld.pid"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  if [ -n "$STARTED_MUNGE" ] && [ -f /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  fi
  echo "slurm-local-test: files in $T"
}
trap cleanup EXIT

fail() {
  echo "slurm-local-test: FAILED: $*" >&2
  exit 1
}

# --- daemons --------------------------------------------------------------------------
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  [ -f /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  chmod 0400 /etc/munge/munge.key
  munged --force
  STARTED_MUNGE=1
fi
HOST="$(hostname -s)"
NODE="$(slurmd -C | head -1)" # NodeName=... CPUs=... RealMemory=...
cat >"$SLURM_CONF" <<EOF
ClusterName=adbandit-test
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
KillWait=5
$NODE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break
  sleep 1
done
sinfo -h -o %t | grep -qE '^(idle|mix|alloc)' || fail "node not up: $(sinfo 2>&1; tail -5 "$T/slurmd.log")"
echo "slurm-local-test: slurm $(sinfo -V | cut -d' ' -f2) up on $HOST"

# --- the sweep ------------------------------------------------------------------------
SWEEP="$T/sweep.json"
cat >"$SWEEP" <<'EOF'
{
  "name": "slurm-local-test",
  "scenarios": ["default"],
  "strategies": [{"name": "static"}, {"name": "thompson"}, {"name": "manual_rule"}],
  "seeds": 4,
  "days": 20,
  "fidelity": "fast",
  "baseline": "static"
}
EOF
"$BIN" sweep run "$SWEEP" --out "$T/one" --threads 1 >"$T/one.table"
"$BIN" sweep merge "$T/one" --out "$T/ref" >"$T/ref.table"

submit() { # submit OUT [extra sbatch args...]
  local out="$1"
  shift
  SWEEP="$SWEEP" OUT="$out" BIN="$BIN" sbatch --parsable --cpus-per-task=1 \
    --output="$T/logs/adbandit-sweep-%A_%a.out" "$@" deploy/slurm/sweep.sbatch
}
state() { squeue -h -j "$1" -o %T 2>/dev/null | head -1; }
wait_state() { # job want
  for _ in $(seq 240); do
    [ "$(state "$1")" = "$2" ] && return 0
    sleep 0.5
  done
  fail "$1 never reached $2 (now: $(state "$1"))"
}
wait_line() { # job file: until the running task has written a result line
  for _ in $(seq 600); do
    [ -s "$2" ] && return 0
    [ "$(state "$1")" = RUNNING ] || [ "$(state "$1")" = PENDING ] || return 0
    sleep 0.1
  done
  fail "$1 wrote no result line"
}
wait_gone() {
  for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  fail "$1 still queued"
}

JOB="$(submit "$T/slurm" --array=0-3)"
echo "slurm-local-test: array job $JOB (4 shards)"
wait_state "${JOB}_1" RUNNING
wait_line "${JOB}_1" "$T/slurm/shard-001-of-004.jsonl"
scontrol requeue "${JOB}_1"
# A requeued job waits (BeginTime) before it may start again; let it start now.
wait_state "${JOB}_1" PENDING
scontrol update JobId="${JOB}_1" StartTime=now 2>/dev/null || true
echo "slurm-local-test: requeued ${JOB}_1 while running ($(wc -l <"$T/slurm/shard-001-of-004.jsonl") lines written)"
wait_state "${JOB}_2" RUNNING
wait_line "${JOB}_2" "$T/slurm/shard-002-of-004.jsonl"
scancel "${JOB}_2"
echo "slurm-local-test: cancelled ${JOB}_2 while running ($(wc -l <"$T/slurm/shard-002-of-004.jsonl") lines written)"
wait_gone "$JOB"
# Task 2 stopped half way: its shard is incomplete, so the merge must refuse.
if "$BIN" sweep merge "$T/slurm" >/dev/null 2>"$T/early-merge.err"; then
  echo "slurm-local-test: note: task 2 had finished before the cancel"
fi
# Re-submit the whole array: finished shards exit at once, shard 2 resumes.
JOB2="$(submit "$T/slurm" --array=0-3 --wait)"
"$BIN" sweep merge "$T/slurm" --out "$T/merged" >"$T/merged.table"

for f in summary.csv runs.csv daily.csv results.json; do
  cmp "$T/ref/$f" "$T/merged/$f" || fail "$f differs from the one-machine run"
done
for f in "$T/ref"/*.svg; do
  cmp "$f" "$T/merged/$(basename "$f")" || fail "$(basename "$f") differs"
done
cmp "$T/ref.table" "$T/merged.table" || fail "summary table differs"
echo "slurm-local-test: merge is byte-identical to one machine ($(ls "$T/merged" | wc -l) files)"

LOG1="$T/logs/adbandit-sweep-${JOB}_1.out"
RUNS="$(grep -c "^.* task 1 of 4" "$LOG1" || true)"
[ "$RUNS" -ge 2 ] || fail "requeued task's log has $RUNS run(s): overwritten? $(cat "$LOG1")"
echo "slurm-local-test: requeued task's log kept both runs ($RUNS headers in $(basename "$LOG1"))"
grep -q "already done" "$T/logs/adbandit-sweep-${JOB2}_0.out" || fail "re-submitted task 0 did not resume"

# A configured count that disagrees with the array is refused (exit 3), not run.
if ADBANDIT_SHARD_COUNT=8 submit "$T/refused" --array=0-1 --wait >/dev/null; then
  fail "ADBANDIT_SHARD_COUNT=8 with a 2-task array was accepted"
fi
grep -qh "set the count in one place" "$T"/logs/adbandit-sweep-*_0.out ||
  fail "no refusal message in the logs"
[ -z "$(ls -A "$T/refused" 2>/dev/null)" ] || fail "the refused run wrote results"
echo "slurm-local-test: a disagreeing ADBANDIT_SHARD_COUNT was refused"
echo "slurm-local-test: PASSED"
