#!/usr/bin/env bash
# autolrs on a running Slurm (scripts/slurm/start-test-cluster):
#   slurm_test.sh steps <autolrs binary> <source dir>
#     a dry-run with 2 slots whose launchers are `srun --exact --ntasks=1 ...`, inside `salloc`:
#     every launch runs as a job step, and probes of a stage run at the same time;
#   slurm_test.sh requeue <autolrs binary> <source dir>
#     configs/slurm-example.json through scripts/slurm/autolrs.sbatch, sent Slurm's USR1 warning
#     mid-run: autolrs stops with 138, the script requeues the job, which resumes and completes.
# Without a responding Slurm it exits 77 (ctest: skipped) on a developer's machine, and fails in
# CI (CI=true), where scripts/check starts the cluster first.
set -euo pipefail
mode=$1
autolrs=$(realpath "$2")
source_dir=$(realpath "$3")

fail() {
  echo "slurm_test $mode: FAILED: $*" >&2
  exit 1
}
no_slurm() {
  [[ ${CI:-} == true ]] && fail "$1 (CI runs scripts/slurm/start-test-cluster before the tests)"
  echo "slurm_test $mode: skipped: $1 (start one with scripts/slurm/start-test-cluster, as root)"
  exit 77
}
command -v salloc >/dev/null || no_slurm "salloc not found"
timeout 10 sinfo --noheader --Node --format=%T 2>/dev/null | grep -q idle || no_slurm "no idle Slurm node"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Polls `condition` (a command) every second for at most `seconds`; false if it never held.
wait_for() {
  local seconds=$1
  shift
  for ((i = 0; i < seconds; i++)); do
    "$@" && return 0
    sleep 1
  done
  return 1
}

job_gone() { [[ -z $(squeue --noheader --jobs="$1" 2>/dev/null) ]]; }

if [[ $mode == requeue ]]; then
  job_id=$(AUTOLRS=$autolrs sbatch --parsable --chdir="$work" --output="$work/job.out" \
    "$source_dir/scripts/slurm/autolrs.sbatch" "$source_dir/configs/slurm-example.json" "$work/run" --dry-run)
  wait_for 120 grep -q '"type":"result"' "$work/run/journal.jsonl" 2>/dev/null ||
    { scancel "$job_id"; cat "$work/job.out" >&2; fail "the job recorded no result in 120 s"; }
  scancel --batch --signal=USR1 "$job_id"
  # Slurm holds a requeued job for about 2 minutes before it starts it again.
  wait_for 480 job_gone "$job_id" || { scancel "$job_id"; cat "$work/job.out" >&2; fail "job $job_id still queued after 480 s"; }
  cat "$work/job.out"
  grep -q "autolrs.sbatch: stopped before the time limit; requeueing job $job_id" "$work/job.out" || fail "no requeue"
  grep -q "autolrs.sbatch: job $job_id restart 1: .* --resume" "$work/job.out" || fail "the requeued job did not resume"
  grep -q '"status": "completed"' "$work/run/summary.json" || fail "the run did not complete"
  [[ $(grep -c '"type":"started"' "$work/run/journal.jsonl") -eq 1 ]] || fail "the journal holds more than one run"
  echo "slurm_test requeue: passed"
  exit 0
fi

wrapper=$source_dir/tests/fake_trainers/slot_timestamps.sh
launcher='"srun", "--exact", "--ntasks=1", "--cpus-per-task=1", "--quiet", "'"$wrapper"'", "s{stage}p{probe}", "--"'
cat >"$work/job.json" <<JSON
{
  "name": "slurm-test",
  "trainer": {"command": ["unused-in-a-dry-run"], "loss": {"pattern": "loss=(?P<loss>\\\\S+)"},
              "env": {"SLOT_TIMESTAMPS_LOG": "$work/timestamps.log"}},
  "search": {"preset": "paper", "lr_max": 0.1, "probes_per_stage": 2, "first_stage_steps": 200, "max_stage_steps": 200, "probe_fraction": 0.5},
  "total_steps": 400,
  "slots": [{"launcher": [$launcher]}, {"launcher": [$launcher]}],
  "simulator": {"task": "quadratic", "step_ms": 2}
}
JSON

status=0
timeout 300 salloc --ntasks=2 --cpus-per-task=1 --time=10 --job-name=autolrs-slurm-test \
  "$autolrs" run "$work/job.json" --dry-run --run-dir "$work/run" >"$work/out.log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
  cat "$work/out.log" >&2
  fail "salloc ... autolrs run exited with status $status"
fi
grep -q '"status": "completed"' "$work/run/summary.json" || fail "the run did not complete"

# Lines: start|end <ns> s<stage>p<probe> <CUDA_VISIBLE_DEVICES> <SLURM_STEP_ID>.
# 2 stages of 2 probes (at LRs too small to diverge, so none is stopped early) and a stage launch:
# 6 launches, each a job step. (The paper preset: 2 BO probes and the stage in each of 2 stages, no decay tails.)
awk '
  { launches[$3] = 1; ends += ($1 == "end"); if ($5 == "none") { print "not a job step: " $0; bad = 1 } }
  $3 !~ /p-1$/ {
    stage = substr($3, 1, index($3, "p") - 1)
    running[stage] += ($1 == "start") ? 1 : -1
    if (running[stage] > most[stage]) most[stage] = running[stage]
  }
  END {
    count = 0; for (l in launches) count++
    if (count != 6 || ends != 6) { print "expected 6 launches run to their end, saw " count " and " ends " ends"; bad = 1 }
    stages = 0
    for (s in most) { stages++; print "stage " s ": at most " most[s] " probes at once"; if (most[s] < 2) bad = 1 }
    if (stages != 2) { print "expected probes in 2 stages, saw " stages; bad = 1 }
    exit bad
  }' < <(sort -k2,2n "$work/timestamps.log") || {
  cat "$work/timestamps.log" >&2
  fail "probes did not run as concurrent job steps"
}
echo "slurm_test steps: passed"
