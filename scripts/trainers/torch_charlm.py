#!/usr/bin/python3
"""A character-level LSTM language model on the Python standard library's own source files, written as
autolrs's trainer protocol asks (docs/trainer-protocol.md):

  torch_charlm.py --lr X [--lr-end Y] --steps N --save PATH [--load PATH] [--seed S]
                  [--optimizer sgd|adamw|sf-sgd|sf-adamw] [--device auto|cpu|cuda]
                  [--val-every K] [--batch-size B] [--threads T] [--clip-norm C]

* the corpus: the first CORPUS_BYTES bytes of the stdlib's top-level `*.py` files (of the interpreter
  that runs this script, /usr/lib/python3.11 for Debian's python3) concatenated in sorted order; the
  last VALIDATION_BYTES of them are held out. Tokens are the bytes: printable ASCII, tab and newline,
  and one token for every other byte;
* the model: embedding 32, one LSTM layer of 64 units, a linear read-out to the 98 tokens (~35k weights);
  every sequence starts from a zero state;
* starts from model + optimizer state + global step in --load when given (a fresh, seed-initialised
  model otherwise), trains exactly --steps optimizer steps (SGD with momentum 0.9 by default, no
  gradient clipping unless --clip-norm) at the constant --lr, or along the ramp --lr → --lr-end (step k
  of N at lr + (lr_end − lr)·k/N); prints `step=<global step> loss=<minibatch loss>` after every step
  and `step=<global step> val_loss=<held-out loss>` every --val-every global steps and after the last;
* the minibatch of global step t (--batch-size windows of SEQUENCE_LENGTH + 1 bytes at offsets drawn
  from (seed, t)) depends only on (seed, t), so a run split into launches prints the same losses as one
  launch (on CPU, bit for bit); the validation loss is the mean over the same VAL_SEQUENCES windows,
  evenly spaced over the held-out bytes, at every evaluation;
* saves atomically to --save and exits 0, also when the loss diverged (`nan`/`inf` lines).
Bad arguments exit 2 (argparse); a missing or foreign --load, or one saved from another corpus, exits 1
with a Python traceback.
"""
import argparse
import hashlib
import math
import os
import pathlib
import sys
import sysconfig
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

CHECKPOINT_FORMAT = "autolrs-torch-charlm-1"
CORPUS_DIR = pathlib.Path(sysconfig.get_path("stdlib"))
CORPUS_BYTES = 2_000_000
VALIDATION_BYTES = 100_000  # the last 5% of the corpus
SEQUENCE_LENGTH = 32  # predicted bytes per window (a window holds one more, the first input)
VAL_SEQUENCES = 128
EMBEDDING_SIZE = 32
HIDDEN_SIZE = 64
PRINTABLE = bytes(range(32, 127)) + b"\t\n"
VOCABULARY_SIZE = len(PRINTABLE) + 1  # the last token stands for every other byte


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="torch_charlm.py",
        description="Train a character-level LSTM on the Python standard library's sources (autolrs trainer protocol).")
    add_launch_arguments(parser, batch_size=16, val_every=50, serving="--serve" in argv)
    parser.add_argument("--clip-norm", type=float, help="clip the gradient's global norm to C (default: no clipping)")
    args = parser.parse_args(argv)
    check_launch_arguments(parser, args)
    if args.clip_norm is not None and not (math.isfinite(args.clip_norm) and args.clip_norm > 0):
        parser.error(f"--clip-norm must be finite and > 0, got {args.clip_norm}")
    return args


def read_corpus(folder=CORPUS_DIR, size=CORPUS_BYTES):
    """The first `size` bytes of `folder`'s top-level *.py files, concatenated in sorted order."""
    parts, total = [], 0
    for path in sorted(folder.glob("*.py")):
        if total >= size:
            break
        parts.append(path.read_bytes()[:size - total])
        total += len(parts[-1])
    if total < size:
        raise ValueError(f"{folder}: only {total} bytes of *.py files, {size} needed")
    return b"".join(parts)


def tokenize(data):
    """Byte string → int64 tensor of token ids: PRINTABLE[i] → i, any other byte → VOCABULARY_SIZE − 1."""
    table = torch.full((256,), VOCABULARY_SIZE - 1, dtype=torch.int64)
    table[torch.tensor(list(PRINTABLE))] = torch.arange(len(PRINTABLE))
    return table[torch.frombuffer(bytearray(data), dtype=torch.uint8).long()]


def batch_windows(tokens, seed, step, batch_size):
    """The (batch_size, SEQUENCE_LENGTH + 1) windows of global step `step`: offsets drawn uniformly from a
    generator seeded by (seed, step) alone."""
    generator = torch.Generator().manual_seed(mix_seed(seed, step))
    starts = torch.randint(0, len(tokens) - SEQUENCE_LENGTH, (batch_size,), generator=generator)
    return tokens[starts.unsqueeze(1) + torch.arange(SEQUENCE_LENGTH + 1)]


def validation_windows(tokens):
    """VAL_SEQUENCES windows evenly spaced over `tokens`, the same for every evaluation."""
    starts = torch.linspace(0, len(tokens) - SEQUENCE_LENGTH - 1, VAL_SEQUENCES).long()
    return tokens[starts.unsqueeze(1) + torch.arange(SEQUENCE_LENGTH + 1)]


class CharLSTM(torch.nn.Module):
    """Embedding → one LSTM layer → linear read-out of the next token's logits."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCABULARY_SIZE, EMBEDDING_SIZE)
        self.lstm = torch.nn.LSTM(EMBEDDING_SIZE, HIDDEN_SIZE, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN_SIZE, VOCABULARY_SIZE)

    def forward(self, tokens):
        """(B, T) token ids → (B, T, VOCABULARY_SIZE) logits of each next token."""
        hidden, _ = self.lstm(self.embedding(tokens))
        return self.head(hidden)


def sequence_loss(model, windows):
    """Mean cross-entropy (nats per byte) of predicting windows[:, 1:] from windows[:, :-1]."""
    logits = model(windows[:, :-1])
    return F.cross_entropy(logits.reshape(-1, VOCABULARY_SIZE), windows[:, 1:].reshape(-1))


class Corpus:
    """The training and validation tokens, and a digest of the bytes they came from."""

    def __init__(self, device):
        data = read_corpus()
        self.digest = hashlib.sha256(data).hexdigest()
        tokens = tokenize(data)
        self.train = tokens[:-VALIDATION_BYTES]
        self.validation = validation_windows(tokens[-VALIDATION_BYTES:]).to(device)


def train(args):
    started = time.perf_counter()
    configure_torch(args.threads)
    device = torch.device(resolve_device(args.device))

    corpus = Corpus(device)
    model, optimizer, step, checkpoint = start_training(args, CharLSTM, CHECKPOINT_FORMAT, "torch_charlm", device)
    if checkpoint is not None and checkpoint["corpus_sha256"] != corpus.digest:
        raise ValueError(f"{args.load}: trained on another corpus than {CORPUS_DIR}'s")

    def report_validation():
        with torch.no_grad():
            val_loss = sequence_loss(model, corpus.validation).item()
        print(f"step={step} val_loss={val_loss:.6g}", flush=True)

    train_started = time.perf_counter()
    first_step, last_step = step, step + args.steps
    while step < last_step:
        # the launch's LR wins over the one stored with the optimizer state
        set_lr(optimizer, launch_lr(args.lr, args.lr_end, step - first_step, args.steps))
        windows = batch_windows(corpus.train, args.seed, step, args.batch_size).to(device)
        begin_step(optimizer)
        loss = sequence_loss(model, windows)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        optimizer.step()
        step += 1
        print(f"step={step} loss={loss.item():.6g}", flush=True)
        if step % args.val_every == 0 and step != last_step:
            report_validation()
    report_validation()
    train_seconds = time.perf_counter() - train_started

    save_atomically({"format": CHECKPOINT_FORMAT, "step": step, "seed": args.seed, "corpus_sha256": corpus.digest,
                     "optimizer_name": args.optimizer, "model": model.state_dict(),
                     "optimizer": optimizer.state_dict()}, args.save)
    rate = args.steps / train_seconds if train_seconds > 0 else float("inf")
    print(f"torch_charlm: device={device} import_s={TORCH_IMPORT_SECONDS:.3f} setup_s={train_started - started:.3f} "
          f"train_s={train_seconds:.3f} steps_per_s={rate:.1f}", file=sys.stderr, flush=True)


def main(argv=None):
    train_or_serve(train, parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
