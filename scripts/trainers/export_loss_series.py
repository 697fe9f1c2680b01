#!/usr/bin/python3
"""Writes real probe loss series from torch_digits.py, with the loss each probe's LR reaches later, for
evaluating the loss forecaster (tests/numerics/data/).

Mirrors the stages of configs/torch-example.json: for each (start step, stage length tau) the model is
first trained to the start step at a fixed good LR, then one launch per LR runs tau steps from that
checkpoint. The first tau/10 steps are the probe's series (what autolrs would see); what the same
launch reaches at step tau is the truth the forecast is judged against. Batches depend only on
(seed, global step), so the series equals what a separate probe launch would print.

series CSV: series_id,kind,lr,step,loss   one row per loss line within the probe; `step` counts from
                                          the start checkpoint (1 = first step of the probe); kind is
                                          train (minibatch loss) or val (held-out loss); loss may be
                                          nan or inf
truth CSV:  series_id,kind,lr,start_step,probe_steps,horizon,truth
                                          horizon = tau, in the same step units; truth is the val loss
                                          at the horizon (kind val) or the mean of the last
                                          TRAIN_TRUTH_WINDOW minibatch losses up to it (kind train)
"""
import argparse
import csv
import os
import pathlib
import re
import statistics
import subprocess
import tempfile

TRAINER = pathlib.Path(__file__).resolve().parent / "torch_digits.py"
DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "numerics" / "data"
STAGES = [(0, 200), (200, 400), (600, 800), (1400, 800)]  # (start step, tau) as in torch-example.json
LRS = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 100.0]  # 100 diverges to nan within a few steps
START_LR = 0.03  # trains the start checkpoints; the best constant LR of a 1000-step sweep
PROBE_FRACTION = 0.1
VAL_EVERY = 5
TRAIN_TRUTH_WINDOW = 20
LINE = re.compile(r"^step=(\d+) (loss|val_loss)=(\S+)$")


def run_trainer(lr, steps, save, load, seed):
    """Runs torch_digits.py on one CPU thread; returns its (global step, kind, loss text) lines."""
    argv = [str(TRAINER), "--lr", repr(lr), "--steps", str(steps), "--save", save, "--seed", str(seed),
            "--device", "cpu", "--threads", "1", "--val-every", str(VAL_EVERY)]
    if load:
        argv += ["--load", load]
    output = subprocess.run(argv, env={**os.environ, "OMP_NUM_THREADS": "1"}, check=True,
                            capture_output=True, text=True).stdout
    lines = []
    for line in output.splitlines():
        match = LINE.match(line)
        if match:
            lines.append((int(match[1]), "train" if match[2] == "loss" else "val", match[3]))
    return lines


def export(series_path, truth_path, seed):
    with tempfile.TemporaryDirectory() as scratch, \
            open(series_path, "w", newline="") as series_file, open(truth_path, "w", newline="") as truth_file:
        series = csv.writer(series_file, lineterminator="\n")
        truth = csv.writer(truth_file, lineterminator="\n")
        series.writerow(["series_id", "kind", "lr", "step", "loss"])
        truth.writerow(["series_id", "kind", "lr", "start_step", "probe_steps", "horizon", "truth"])
        start_checkpoint, trained = None, 0
        for start_step, tau in STAGES:
            if start_step > trained:
                save = os.path.join(scratch, f"start{start_step}.pt")
                run_trainer(START_LR, start_step - trained, save, start_checkpoint, seed)
                start_checkpoint, trained = save, start_step
            probe_steps = round(tau * PROBE_FRACTION)
            for lr in LRS:
                series_id = f"start{start_step}-lr{lr:g}"
                lines = run_trainer(lr, tau, os.path.join(scratch, "probe.pt"), start_checkpoint, seed)
                for global_step, kind, loss in lines:
                    step = global_step - start_step
                    if step <= probe_steps:
                        series.writerow([series_id, kind, f"{lr:g}", step, loss])
                train_tail = [float(loss) for global_step, kind, loss in lines
                              if kind == "train" and global_step - start_step > tau - TRAIN_TRUTH_WINDOW]
                val_at_horizon = [loss for global_step, kind, loss in lines
                                  if kind == "val" and global_step - start_step == tau][-1]
                truth.writerow([series_id, "train", f"{lr:g}", start_step, probe_steps, tau,
                                f"{statistics.fmean(train_tail):.6g}"])
                truth.writerow([series_id, "val", f"{lr:g}", start_step, probe_steps, tau, val_at_horizon])
                print(f"{series_id}: val loss at horizon {val_at_horizon}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=str(DATA / "torch_series.csv"), help="series CSV to write")
    parser.add_argument("--truth", default=str(DATA / "torch_truth.csv"), help="truth CSV to write")
    parser.add_argument("--seed", type=int, default=0, help="the trainer's --seed")
    args = parser.parse_args()
    export(args.series, args.truth, args.seed)


if __name__ == "__main__":
    main()
