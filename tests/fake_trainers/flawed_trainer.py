#!/usr/bin/env python3
"""A trainer with one chosen flaw of the kind new users' trainers have, for the trainer-check tests.

Arguments are key=value: lr=, steps=, out=, seed=, init= (only when resuming) and flaw=, one of
  none            a healthy trainer
  ignore-lr       trains at its own LR (0.05) whatever lr= says
  no-resume       ignores init= and trains from scratch every launch
  npz             saves its checkpoint as <out>.npz, as numpy.savez does with a name without .npz
  missing-module  imports a module that does not exist (a traceback on stderr, exit 1)
  val-elsewhere   prints its val loss as "validation: X" instead of "val=X"
With $FDS_LOG set, each launch first appends the descriptors above 2 it was started with, as a
JSON list (autolrs must pass none). Each step prints "step N loss=X" on stdout, and every 5th step " val=Y" on the same line. It fits w
to minimize (w - 3)^2 with noisy gradients from w = 0 (loss 9.5); the loss has a floor of 0.5.
"""
import json
import os
import random
import sys


def train(state, lr, steps, seed):
    """Takes `steps` SGD steps on (w - 3)^2 with seeded gradient noise; yields (step, loss) after each."""
    first = state["step"] + 1
    for step in range(first, first + steps):
        gradient = 2.0 * (state["w"] - 3.0) + random.Random(seed * 1_000_003 + step).gauss(0.0, 0.3)
        state["w"] -= lr * gradient
        state["step"] = step
        yield step, 0.5 + (state["w"] - 3.0) ** 2


def main():
    if "FDS_LOG" in os.environ:
        inherited = []
        for fd in range(3, 1024):
            try:
                os.fstat(fd)
                inherited.append(fd)
            except OSError:
                pass
        with open(os.environ["FDS_LOG"], "a") as log:
            log.write(json.dumps(inherited) + "\n")
    args = dict(arg.split("=", 1) for arg in sys.argv[1:])
    flaw = args.get("flaw", "none")
    if flaw == "missing-module":
        import autolrs_no_such_module  # noqa: F401
    lr, steps, seed = float(args["lr"]), int(args["steps"]), int(args["seed"])
    if flaw == "ignore-lr":
        lr = 0.05
    state = {"step": 0, "w": 0.0}
    if "init" in args and flaw != "no-resume":
        with open(args["init"]) as checkpoint:
            state = json.load(checkpoint)
    for step, loss in train(state, lr, steps, seed):
        val = f" validation: {loss + 0.01:.6g}" if flaw == "val-elsewhere" else f" val={loss + 0.01:.6g}"
        print(f"step {step} loss={loss:.6g}" + (val if step % 5 == 0 else ""), flush=True)
    out = args["out"] + (".npz" if flaw == "npz" else "")
    with open(out, "w") as checkpoint:
        json.dump(state, checkpoint)


if __name__ == "__main__":
    main()
