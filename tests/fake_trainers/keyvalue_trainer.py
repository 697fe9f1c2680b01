#!/usr/bin/env python3
"""A trainer with another CLI shape than autolrs's own simulator, driven by spec alone.

Arguments are key=value (lr=, steps=, out=, seed=, and init= only when resuming). Losses go to
stderr behind a timestamp, with the train and val loss on one line every 5th step:
    2026-11-28T12:00:00.123 it 35 | loss 0.8312 | val 0.8410
Each launch appends its argv as one JSON line to $ARGV_LOG. The checkpoint is a JSON file.
It fits w to minimize (w - 3)^2 with noisy gradients; the loss has a floor of 0.5.
"""
import json
import math
import os
import random
import sys
import time


def main():
    args = dict(arg.split("=", 1) for arg in sys.argv[1:])
    with open(os.environ["ARGV_LOG"], "a") as log:
        log.write(json.dumps(sys.argv[1:]) + "\n")
    lr, steps, seed = float(args["lr"]), int(args["steps"]), int(args["seed"])
    state = {"step": 0, "w": 0.0}
    if "init" in args:
        with open(args["init"]) as checkpoint:
            state = json.load(checkpoint)
    for _ in range(steps):
        state["step"] += 1
        noise = random.Random(seed * 1_000_003 + state["step"]).gauss(0.0, 0.3)
        state["w"] -= lr * (2.0 * (state["w"] - 3.0) + noise)
        loss = 0.5 + (state["w"] - 3.0) ** 2
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S") + ".123"
        line = f"{stamp} it {state['step']} | loss {loss:.6g}"
        if state["step"] % 5 == 0:
            line += f" | val {loss + 0.01:.6g}"
        print(line if math.isfinite(loss) else f"{stamp} it {state['step']} | loss nan", file=sys.stderr, flush=True)
    with open(args["out"], "w") as checkpoint:
        json.dump(state, checkpoint)


if __name__ == "__main__":
    main()
