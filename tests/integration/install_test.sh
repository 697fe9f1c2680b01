#!/bin/sh
# `cmake --install` into a fresh prefix puts autolrs, its example configs and scripts, the README and
# the docs in place, and the installed binary validates and runs an installed config.
# Usage: install_test.sh BUILD_DIR
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
for file in bin/autolrs share/autolrs/configs/dry-run.json share/autolrs/configs/torch-example.json \
            share/autolrs/configs/torch-example-serve.json share/autolrs/scripts/trainers/autolrs_serve.py \
            share/autolrs/scripts/trainers/torch_digits.py share/autolrs/scripts/slots/main-on-all-gpus \
            share/doc/autolrs/README.md share/doc/autolrs/architecture.md; do
  [ -e "$prefix/$file" ] || fail "missing after install: $file"
done
[ -x "$prefix/share/autolrs/scripts/trainers/torch_digits.py" ] || fail "torch_digits.py lost its executable bit"
PATH="$prefix/bin:$PATH" autolrs validate "$prefix/share/autolrs/configs/dry-run.json" --dry-run \
  --run-dir "$prefix/run" >/dev/null || fail "the installed autolrs does not validate the installed dry-run config"
# The torch config names its trainer relative to itself: the installed layout must keep that path.
autolrs_out=$("$prefix/bin/autolrs" validate "$prefix/share/autolrs/configs/torch-example.json" --run-dir "$prefix/run" 2>&1) ||
  fail "the installed torch config does not validate: $autolrs_out"
echo "install_test: ok"
