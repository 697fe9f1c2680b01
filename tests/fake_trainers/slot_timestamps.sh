#!/bin/bash
# A slot launcher for tests: `slot_timestamps.sh <launch-name> -- <command...>` appends
# "start <ns> <launch-name> <CUDA_VISIBLE_DEVICES> <SLURM_STEP_ID>" to $SLOT_TIMESTAMPS_LOG, runs
# the command, appends the same line with "end", and exits with the command's status.
set -u
name=$1
shift 2
stamp() {
  printf '%s %s %s %s %s\n' "$1" "$(date +%s%N)" "$name" "${CUDA_VISIBLE_DEVICES-unset}" "${SLURM_STEP_ID-none}" \
    >>"$SLOT_TIMESTAMPS_LOG"
}
stamp start
"$@"
status=$?
stamp end
exit "$status"
