#!/bin/bash
# Behaves as told by $1, for the launcher tests.
case "$1" in
  streams)  # lines on both streams, with '\r' progress bars and a partial last line
    printf 'out one\r\nout two\n'
    printf 'err one\n' >&2
    printf 'progress 10%%\rprogress 100%%\r\n' >&2
    printf 'no newline at end'
    ;;
  exit)  # exits with status $2
    echo "exiting with $2"
    exit "$2"
    ;;
  self_kill)  # dies by signal $2
    echo "about to die"
    kill -s "$2" $$
    ;;
  hang)  # prints one line then nothing
    echo started
    exec sleep 30
    ;;
  chatty)  # prints forever, never idle
    while true; do echo tick; sleep 0.05; done
    ;;
  ignore_term)  # ignores SIGTERM and keeps running; its pid goes to $2
    trap '' TERM
    echo $$ > "$2"
    echo ready
    while true; do sleep 0.05; done
    ;;
  leave_grandchild)  # a background child keeps stdout open after this process exits; its pid goes to $2
    sleep 30 &
    echo $! > "$2"
    echo "main done"
    exit 0
    ;;
  leave_daemon)  # a `setsid` child (another session and group) keeps stdout open after this exits; its pid goes to $2
    setsid sleep 30 &
    echo $! > "$2"
    echo "main done"
    exit 0
    ;;
  huge_line)  # $2 bytes without a newline, then a normal line
    head -c "$2" /dev/zero | tr '\0' 'x'
    printf '\nafter\n'
    ;;
  junk)  # binary bytes, NUL and invalid UTF-8 on one line, then a normal line
    printf 'a\000b\377\376c\n'
    printf 'ok\n'
    ;;
esac
