"""Serve mode for autolrs trainers (docs/trainer-protocol.md, "Serve mode"), standard library only.

With `"mode": "serve"` autolrs starts the trainer once per slot and writes each launch to its stdin as
one line of JSON; the trainer runs it as it would run the launch's command line, then prints the
completion line autolrs waits for. `serve` does the reading and the replying:

    import autolrs_serve

    def train(args):   # one launch: args.lr, args.lr_end, args.steps, args.load, args.save, args.seed, ...
        ...

    autolrs_serve.serve(train, options)   # options: the trainer's other settings (an argparse.Namespace)

A launch that raises ends the server (the traceback on stderr, exit status 1): autolrs records that
launch as failed and starts a fresh server for the next one.
"""
import argparse
import json
import sys


def launch_args(command, options=None):
    """The argparse.Namespace an exec-mode launch would have parsed from its command line: `options`
    with the command's values under the flags' names (lr, lr_end, steps, load, save, seed), plus
    global_step, stage, probe, run_dir and id. lr_end equals lr for a constant-LR launch."""
    args = argparse.Namespace(**vars(options or argparse.Namespace()))
    args.lr = float(command["lr"])
    args.lr_end = float(command["lr_end"])
    args.steps = int(command["steps"])
    args.load = command["load_checkpoint"]
    args.save = command["save_checkpoint"]
    args.seed = int(command["seed"])
    args.global_step = int(command["global_step"])
    args.stage = int(command["stage"])
    args.probe = int(command["probe"])
    args.run_dir = command["run_dir"]
    args.id = command["id"]
    return args


def completion(command_id):
    """The line that ends command `command_id`."""
    return json.dumps({"autolrs": "done", "id": command_id})


def serve(train, options=None, commands=None):
    """Calls train(launch_args(command, options)) for each command line read from `commands` (default:
    stdin) until it ends, and prints the command's completion on stdout, flushed, after each."""
    for line in commands or sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        train(launch_args(command, options))
        print(completion(command["id"]), flush=True)
