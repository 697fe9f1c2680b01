#!/usr/bin/python3
"""A small CNN on scikit-learn's bundled 8x8 handwritten digits, written as autolrs's trainer protocol
asks (docs/trainer-protocol.md):

  torch_digits.py --lr X [--lr-end Y] --steps N --save PATH [--load PATH] [--seed S]
                  [--optimizer sgd|adamw|sf-sgd|sf-adamw] [--device auto|cpu|cuda]
                  [--val-every K] [--batch-size B] [--threads T]

* starts from model + optimizer state + global step in --load when given (a fresh, seed-initialised
  model otherwise), trains exactly --steps optimizer steps (SGD with momentum 0.9 by default) at the
  constant --lr, or along the ramp --lr → --lr-end (step k of N at lr + (lr_end − lr)·k/N), also when
  the optimizer state was loaded; prints `step=<global step> loss=<minibatch loss>` after every step and
  `step=<global step> val_loss=<held-out loss>` every --val-every global steps and after the last one;
* the minibatch of global step t depends only on (seed, t), so launches from one checkpoint replay the
  same data, and a run split into launches prints the same losses as one launch (on CPU, bit for bit);
* saves atomically to --save (temporary file in the same folder, fsync, rename) and exits 0, also when
  the loss diverged: non-finite losses are printed as `nan`/`inf`, and judging them is autolrs's job;
* under `torchrun --nproc_per_node=N` it trains with DistributedDataParallel (gloo on CPU, nccl on
  CUDA): each rank takes a slice of the same global minibatch, rank 0 prints and saves.
Bad arguments exit 2 (argparse); a missing or unreadable --load exits 1 with a Python traceback.
"""
import argparse
import os
import sys
import time

# cuBLAS needs this before CUDA starts to run its matrix products deterministically.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

_import_started = time.perf_counter()
import torch  # noqa: E402  (after the environment it reads)
import torch.nn.functional as F  # noqa: E402
TORCH_IMPORT_SECONDS = time.perf_counter() - _import_started
from torch_common import (add_launch_arguments, begin_step, check_launch_arguments, configure_torch,  # noqa: E402
                          launch_lr, mix_seed, resolve_device, save_atomically, set_lr, start_training,
                          train_or_serve)

CHECKPOINT_FORMAT = "autolrs-torch-digits-1"
VALIDATION_SIZE = 297  # of the 1797 digits; the remaining 1500 train
SPLIT_SEED = 20210503  # fixes the train/validation split for every --seed


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="torch_digits.py", description="Train a small CNN on the 8x8 digits (autolrs trainer protocol).")
    add_launch_arguments(parser, batch_size=32, val_every=50, serving="--serve" in argv)
    args = parser.parse_args(argv)
    check_launch_arguments(parser, args)
    return args


def load_split():
    """(train_x, train_y, val_x, val_y): images as float (N, 1, 8, 8) in [0, 1], labels as int64."""
    from sklearn.datasets import load_digits  # imported here: scikit-learn costs ~0.7 s to import
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val, train = order[:VALIDATION_SIZE], order[VALIDATION_SIZE:]
    return images[train], labels[train], images[val], labels[val]


def batch_indices(seed, step, train_size, batch_size):
    """Indices of global step `step`'s minibatch: epochs are seeded permutations of the training set,
    so the batch depends only on (seed, step) and every example is seen once per epoch."""
    per_epoch = max(1, train_size // batch_size)
    epoch, position = divmod(step, per_epoch)
    order = torch.randperm(train_size, generator=torch.Generator().manual_seed(mix_seed(seed, epoch)))
    if batch_size > train_size:
        return order
    return order[position * batch_size:(position + 1) * batch_size]


def build_model():
    """Conv 1->16 (3x3), conv 16->32 (3x3, stride 2), dense 512->64->10; ReLU between; ~38k weights.
    The stride-2 convolution stands in for max pooling, whose CUDA backward is not deterministic."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, kernel_size=3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 4 * 4, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10))


class Distributed:
    """Rank and world size under torchrun (WORLD_SIZE > 1 in the environment), one process otherwise."""

    def __init__(self, device):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = torch.device(device)
        if self.world_size > 1:
            if device == "cuda":
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
                torch.cuda.set_device(self.device)
            torch.distributed.init_process_group("nccl" if device == "cuda" else "gloo")

    def wrap(self, model):
        if self.world_size == 1:
            return model
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def shard(self, indices):
        """This rank's slice of the global minibatch (contiguous, as even as the batch size allows)."""
        bounds = [len(indices) * r // self.world_size for r in range(self.world_size + 1)]
        return indices[bounds[self.rank]:bounds[self.rank + 1]]

    def mean_loss(self, loss, count, total):
        """The global minibatch's mean loss from this rank's mean over `count` of `total` examples."""
        if self.world_size == 1:
            return loss.item()
        weighted = loss.detach() * (count / total)
        torch.distributed.all_reduce(weighted)
        return weighted.item()

    def close(self):
        if self.world_size > 1:
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()


def train(args):
    started = time.perf_counter()
    configure_torch(args.threads)
    dist = Distributed(resolve_device(args.device))
    device = dist.device

    train_x, train_y, val_x, val_y = (t.to(device) for t in load_split())
    model, optimizer, step, _ = start_training(args, build_model, CHECKPOINT_FORMAT, "torch_digits", device)
    network = dist.wrap(model)
    printing = dist.rank == 0

    def report_validation():
        if printing:
            with torch.no_grad():
                val_loss = F.cross_entropy(model(val_x), val_y).item()
            print(f"step={step} val_loss={val_loss:.6g}", flush=True)

    train_started = time.perf_counter()
    first_step, last_step = step, step + args.steps
    while step < last_step:
        # the launch's LR wins over the one stored with the optimizer state
        set_lr(optimizer, launch_lr(args.lr, args.lr_end, step - first_step, args.steps))
        indices = batch_indices(args.seed, step, len(train_y), args.batch_size).to(device)
        local = dist.shard(indices)
        begin_step(optimizer)
        loss = F.cross_entropy(network(train_x[local]), train_y[local])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        batch_loss = dist.mean_loss(loss, len(local), len(indices))
        if printing:
            print(f"step={step} loss={batch_loss:.6g}", flush=True)
        if step % args.val_every == 0 and step != last_step:
            report_validation()
    report_validation()
    train_seconds = time.perf_counter() - train_started

    if printing:
        save_atomically({"format": CHECKPOINT_FORMAT, "step": step, "seed": args.seed,
                         "optimizer_name": args.optimizer, "model": model.state_dict(),
                         "optimizer": optimizer.state_dict()}, args.save)
        rate = args.steps / train_seconds if train_seconds > 0 else float("inf")
        print(f"torch_digits: device={device} world_size={dist.world_size} "
              f"import_s={TORCH_IMPORT_SECONDS:.3f} setup_s={train_started - started:.3f} train_s={train_seconds:.3f} steps_per_s={rate:.1f}",
              file=sys.stderr, flush=True)
    dist.close()


def main(argv=None):
    train_or_serve(train, parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
