#!/usr/bin/env python3
"""minimal_trainer.py --serve with one fault, for the serve-mode fault tests: the server breaks the
protocol at the SERVE_FAULT_AT-th command of the whole run (counted in the file SERVE_COUNTER, across
server restarts), once. SERVE_FAULT is one of
  kill         print two loss lines, then SIGKILL itself mid-command
  hang         print a loss line, then sleep (trainer.idle_timeout_s ends it)
  exit         complete the command, then exit 0 before the next one
  wrong_id     train, then print the completion of another command
  close_stdin  close stdin mid-command, then sleep without completing
Each server appends its pid to SERVE_PIDS."""
import os, signal, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "trainers"))
import autolrs_serve  # noqa: E402
from minimal_trainer import train  # noqa: E402

FAULT, FAULT_AT, COUNTER = os.environ["SERVE_FAULT"], int(os.environ["SERVE_FAULT_AT"]), os.environ["SERVE_COUNTER"]
with open(os.environ["SERVE_PIDS"], "a") as pids:
    print(os.getpid(), file=pids)


def count_command():
    """1 for the run's first command, 2 for its second, ..."""
    count = int(open(COUNTER).read()) + 1 if os.path.exists(COUNTER) else 1
    with open(COUNTER, "w") as f:
        f.write(str(count))
    return count


def faulty_train(args):
    faulty = count_command() == FAULT_AT
    if faulty and FAULT == "kill":
        print(f"step={args.global_step + 1} loss=1", flush=True)
        print(f"step={args.global_step + 2} loss=1", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    if faulty and FAULT == "hang":
        print(f"step={args.global_step + 1} loss=1", flush=True)
        time.sleep(600)
    if faulty and FAULT == "close_stdin":
        os.close(0)
        time.sleep(600)
    train(args)
    if faulty and FAULT == "wrong_id":
        print(autolrs_serve.completion("stage-999-probe-99"), flush=True)
        time.sleep(600)
    if faulty and FAULT == "exit":
        print(autolrs_serve.completion(args.id), flush=True)
        sys.exit(0)


autolrs_serve.serve(faulty_train)
