#!/bin/bash
# Stands in for torchrun in tests: appends its own options and CUDA_VISIBLE_DEVICES, one line, to
# $FAKE_TORCHRUN_LOG, then runs the command after --no_python as a single process.
set -u
options=()
while [[ $# -gt 0 && $1 != --no_python ]]; do
  options+=("$1")
  shift
done
shift
printf '%s CUDA_VISIBLE_DEVICES=%s\n' "${options[*]}" "$CUDA_VISIBLE_DEVICES" >>"$FAKE_TORCHRUN_LOG"
exec "$@"
