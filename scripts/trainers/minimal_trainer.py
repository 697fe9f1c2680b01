#!/usr/bin/env python3
"""The smallest trainer that follows autolrs's protocol: fits y = 3x + 1 by minibatch SGD.
With --serve it runs one launch per JSON command on stdin instead (serve mode, autolrs_serve.py)."""
import argparse, json, os, random, sys


def train(args):
    state = {"w": 0.0, "b": 0.0, "step": 0}  # the model and the global step
    if args.load:  # resume where the checkpoint left off
        with open(args.load) as f:
            state = json.load(f)
    for k in range(args.steps):
        lr = args.lr if args.lr_end is None else args.lr + (args.lr_end - args.lr) * k / args.steps
        rng = random.Random(f"{args.seed}:{state['step']}")  # the batch depends on (seed, step) only
        xs = [rng.uniform(-1, 1) for _ in range(8)]
        errors = [state["w"] * x + state["b"] - (3 * x + 1 + rng.gauss(0, 0.1)) for x in xs]
        state["w"] -= lr * 2 * sum(e * x for e, x in zip(errors, xs)) / len(xs)
        state["b"] -= lr * 2 * sum(errors) / len(xs)
        state["step"] += 1
        print(f"step={state['step']} loss={sum(e * e for e in errors) / len(xs)}", flush=True)
    with open(args.save + ".tmp", "w") as f:  # write beside the target, then rename: atomic
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(args.save + ".tmp", args.save)


if __name__ == "__main__":
    serving = "--serve" in sys.argv
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")  # then the flags below come in each command
    parser.add_argument("--lr", type=float, required=not serving)
    parser.add_argument("--lr-end", type=float)  # optional ramp: step k of the launch trains at lr + (lr_end - lr) * k / steps
    parser.add_argument("--steps", type=int, required=not serving)
    parser.add_argument("--save", required=not serving)
    parser.add_argument("--load")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.serve:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import autolrs_serve
        autolrs_serve.serve(train, args)
    else:
        train(args)
