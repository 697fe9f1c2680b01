#!/usr/bin/env bash
# Runs a dry-run with 2 slots whose launchers are `srun --exact -n1 ...` inside `salloc -n2` on a
# running Slurm (scripts/slurm/start-test-cluster) and checks that every launch ran as a job step
# and that probes of a stage ran at the same time.
#   slurm_test.sh <autolrs binary> <tests/fake_trainers dir>
# Without a responding Slurm it exits 77 (ctest: skipped) on a developer's machine, and fails in
# CI (CI=true), where scripts/check starts the cluster first.
set -euo pipefail
autolrs=$1
wrapper=$(realpath "$2")/slot_timestamps.sh

no_slurm() {
  if [[ ${CI:-} == true ]]; then
    echo "slurm_test: FAILED: $1 (CI runs scripts/slurm/start-test-cluster before the tests)" >&2
    exit 1
  fi
  echo "slurm_test: skipped: $1 (start one with scripts/slurm/start-test-cluster, as root)"
  exit 77
}
command -v salloc >/dev/null || no_slurm "salloc not found"
timeout 10 sinfo --noheader --Node --format=%T 2>/dev/null | grep -q idle || no_slurm "no idle Slurm node"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
launcher='"srun", "--exact", "--ntasks=1", "--cpus-per-task=1", "--quiet", "'"$wrapper"'", "s{stage}p{probe}", "--"'
cat >"$work/job.json" <<JSON
{
  "name": "slurm-test",
  "trainer": {"command": ["unused-in-a-dry-run"], "loss": {"pattern": "loss=(?P<loss>\\\\S+)"},
              "env": {"SLOT_TIMESTAMPS_LOG": "$work/timestamps.log"}},
  "search": {"lr_max": 0.1, "probes_per_stage": 2, "first_stage_steps": 200, "max_stage_steps": 200, "probe_fraction": 0.5},
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
  echo "slurm_test: FAILED: salloc ... autolrs run exited with status $status" >&2
  exit 1
fi
grep -q '"status": "completed"' "$work/run/summary.json" || { echo "slurm_test: FAILED: run not completed" >&2; exit 1; }

# Lines: start|end <ns> s<stage>p<probe> <CUDA_VISIBLE_DEVICES> <SLURM_STEP_ID>.
# 2 stages of 2 probes (at LRs too small to diverge, so none is stopped early) and a stage launch:
# 6 launches, each a job step.
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
  echo "slurm_test: FAILED: probes did not run as concurrent job steps" >&2
  exit 1
}
echo "slurm_test: passed"
