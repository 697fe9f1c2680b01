#!/bin/sh
# Times torch_digits.py on CUDA against the CPU and checks that CUDA runs repeat and resume exactly.
# Usage: [PYTHON=python3] scripts/trainers/gpu_check.sh [STEPS]   (default 500; needs a CUDA device)
# PYTHON is the interpreter with torch and scikit-learn (default /usr/bin/python3, Debian's).
set -eu
steps=${1:-500}
half=$((steps / 2))
python=${PYTHON:-/usr/bin/python3}
trainer="$(dirname "$0")/torch_digits.py"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export OMP_NUM_THREADS=1

# launch NAME ARGS...: runs the trainer at LR 0.03, keeps its output as NAME.*, prints its timing line
# (steps_per_s counts training steps only) and the launch's wall time including Python and torch startup.
launch() {
  name=$1
  shift
  started=$(date +%s%N)
  "$python" "$trainer" --lr 0.03 --val-every 100 --save "$scratch/$name.pt" "$@" >"$scratch/$name.out" 2>"$scratch/$name.err"
  finished=$(date +%s%N)
  echo "$name: $(grep '^torch_digits:' "$scratch/$name.err") launch_ms=$(((finished - started) / 1000000))" \
    "last: $(tail -n 1 "$scratch/$name.out")"
}

# same NAME_A NAME_B: whether the two launches printed the same loss lines.
same() {
  if cmp -s "$scratch/$1.loss" "$scratch/$2.loss"; then echo yes; else echo NO; fi
}

launch cpu --device cpu --steps "$steps"
launch cuda --device cuda --steps "$steps"
launch cuda_again --device cuda --steps "$steps"
launch cuda_first_half --device cuda --steps "$half"
launch cuda_second_half --device cuda --steps "$((steps - half))" --load "$scratch/cuda_first_half.pt"
launch cuda_batch512 --device cuda --steps "$steps" --batch-size 512
launch cpu_batch512 --device cpu --steps "$steps" --batch-size 512
for name in cuda cuda_again; do
  grep ' loss=' "$scratch/$name.out" >"$scratch/$name.loss"
done
cat "$scratch/cuda_first_half.out" "$scratch/cuda_second_half.out" | grep ' loss=' >"$scratch/cuda_split.loss"
echo "cuda repeats exactly: $(same cuda cuda_again)"
echo "cuda split launches match one launch: $(same cuda cuda_split)"
