#!/bin/bash
# Prints what it was started with, one item per line, so launcher tests can check argv, env and cwd.
printf 'argc=%d\n' "$#"
for arg in "$@"; do printf 'arg=[%s]\n' "$arg"; done
printf 'cwd=[%s]\n' "$PWD"
printf 'LAUNCHER_TEST_VALUE=[%s]\n' "${LAUNCHER_TEST_VALUE-unset}"
printf 'LAUNCHER_TEST_EMPTY=[%s]\n' "${LAUNCHER_TEST_EMPTY-unset}"
printf 'HOME_is_inherited=[%s]\n' "$([ "$HOME" = "$LAUNCHER_EXPECTED_HOME" ] && echo yes || echo no)"
if read -r -t 1 line; then printf 'stdin=[%s]\n' "$line"; else printf 'stdin=eof\n'; fi
