"""What the PyTorch example trainers (torch_digits.py, torch_charlm.py) share: the protocol's command-line
flags, the LR of a launch's step (constant or a ramp), the optimizers, the seed of a step's minibatch and
the atomic checkpoint save. See docs/trainer-protocol.md for the protocol these implement."""
import math
import os
import tempfile

import torch
import autolrs_serve

import schedule_free

OPTIMIZERS = ("sgd", "adamw", "sf-sgd", "sf-adamw")
MOMENTUM = 0.9  # SGD's momentum, and β of the Schedule-Free optimizers (their interpolation y = (1−β)z + βx)
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.01  # adamw and sf-adamw only (torch.optim.AdamW's default); sgd and sf-sgd have none


def add_launch_arguments(parser, batch_size, val_every, serving=False):
    """The flags every launch takes (`batch_size` and `val_every` are the trainer's defaults). `serving`
    (the argv holds --serve): the per-launch flags (--lr, --lr-end, --steps, --save, --load, --seed)
    come in each command on stdin instead, and none is required."""
    parser.add_argument("--serve", action="store_true",
                        help="serve mode (docs/trainer-protocol.md): stay up and run one launch per JSON command "
                             "on stdin; the per-launch flags come in the commands")
    parser.add_argument("--lr", type=float, required=not serving, help="learning rate of this launch's first step")
    parser.add_argument("--lr-end", type=float,
                        help="ramp: step k of the launch (k = 0 ... steps-1) trains at lr + (lr_end - lr) * k / steps; "
                             "constant --lr without it")
    parser.add_argument("--steps", type=int, required=not serving, help="optimizer steps to run in this launch (>= 0)")
    parser.add_argument("--save", required=not serving, help="checkpoint path written when the launch ends")
    parser.add_argument("--load", help="checkpoint to start from (model, optimizer, global step)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the initial weights and the minibatch order")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                        help="sgd: momentum 0.9; adamw: weight decay 0.01; sf-sgd, sf-adamw: Schedule-Free "
                             "(Defazio et al. 2024), β = 0.9; a checkpoint continues only with the optimizer it was saved by")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="auto: cuda when available, cpu otherwise")
    parser.add_argument("--val-every", type=int, default=val_every, help="validation loss every K global steps")
    parser.add_argument("--batch-size", type=int, default=batch_size, help="global minibatch size")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: OMP_NUM_THREADS or all)")


def check_launch_arguments(parser, args):
    """Exits 2 through `parser.error` on a value add_launch_arguments' flags must not take."""
    for flag, value in (("--lr", args.lr), ("--lr-end", args.lr_end)):
        if value is not None and (not math.isfinite(value) or value < 0):
            parser.error(f"{flag} must be finite and >= 0, got {value}")
    for flag, value, least in (("--steps", args.steps, 0), ("--val-every", args.val_every, 1),
                               ("--batch-size", args.batch_size, 1), ("--threads", args.threads, 1)):
        if value is not None and value < least:
            parser.error(f"{flag} must be >= {least}, got {value}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")


def train_or_serve(train, args):
    """train(args) once, or with --serve once per command autolrs sends (autolrs_serve.serve), the
    command's values over args."""
    if args.serve:
        autolrs_serve.serve(train, args)
    else:
        train(args)


def launch_lr(lr, lr_end, k, steps):
    """The LR of a launch's k-th step (k = 0 ... steps-1): `lr` without a ramp (lr_end None), else
    lr + (lr_end − lr)·k/steps, so lr_end is what the step after the launch would get and launches whose
    ends and starts agree make one continuous piecewise-linear schedule."""
    if lr_end is None:
        return lr
    return lr + (lr_end - lr) * k / steps


def configure_torch(threads):
    """`threads` CPU threads (None: torch's default) and deterministic kernels, on the CPU and on CUDA."""
    if threads is not None:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def resolve_device(choice):
    """'auto' becomes 'cuda' when a CUDA device is available and 'cpu' otherwise."""
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def make_optimizer(name, parameters, lr):
    """One of OPTIMIZERS over `parameters`. The Schedule-Free ones keep the parameters at their averaged
    iterate x between steps; call begin_step before each forward pass that is followed by step()."""
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=MOMENTUM)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, betas=(MOMENTUM, ADAM_BETA2), eps=ADAM_EPS,
                                 weight_decay=WEIGHT_DECAY)
    if name == "sf-sgd":
        return schedule_free.ScheduleFreeSGD(parameters, lr=lr, beta=MOMENTUM)
    if name == "sf-adamw":
        return schedule_free.ScheduleFreeAdamW(parameters, lr=lr, beta=MOMENTUM, beta2=ADAM_BETA2, eps=ADAM_EPS,
                                               weight_decay=WEIGHT_DECAY)
    raise ValueError(f"unknown optimizer {name!r}")


def begin_step(optimizer):
    """Moves the parameters to where the next gradient is taken: y for Schedule-Free, nowhere otherwise."""
    if isinstance(optimizer, schedule_free.ScheduleFree):
        optimizer.begin_step()


def set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = lr


def mix_seed(seed, step):
    """A 63-bit generator seed from (seed, step): two rounds of splitmix64's finaliser (Steele et al.,
    "Fast splittable pseudorandom number generators", OOPSLA 2014), so nearby steps get unrelated seeds."""
    mask = (1 << 64) - 1
    z = (seed * 0x9E3779B97F4A7C15 + step + 1) & mask
    for _ in range(2):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
    return z >> 1


def load_checkpoint(path, checkpoint_format, trainer, optimizer_name, device):
    """The checkpoint dict at `path`; ValueError when it is not `trainer`'s (its `checkpoint_format`) or was
    trained with another optimizer (checkpoints from before --optimizer existed were trained with sgd)."""
    checkpoint = torch.load(path, map_location=device)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != checkpoint_format:
        raise ValueError(f"{path}: not a {trainer} checkpoint")
    saved_with = checkpoint.get("optimizer_name", "sgd")
    if saved_with != optimizer_name:
        raise ValueError(f"{path}: trained with --optimizer {saved_with}, cannot continue with {optimizer_name}")
    return checkpoint


def start_training(args, build_model, checkpoint_format, trainer, device):
    """(model, optimizer, global step, checkpoint or None): the model from build_model() after seeding torch
    with args.seed and its args.optimizer, both restored from args.load when given."""
    torch.manual_seed(args.seed)
    model = build_model().to(device)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    if not args.load:
        return model, optimizer, 0, None
    checkpoint = load_checkpoint(args.load, checkpoint_format, trainer, args.optimizer, device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return model, optimizer, checkpoint["step"], checkpoint


def save_atomically(state, path):
    """Writes `state` to a temporary file beside `path`, fsyncs it and renames it over `path`, so a
    reader sees the old checkpoint or the complete new one, never a partial file."""
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".pt", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(descriptor, 0o666 & ~umask)  # mkstemp's 0600 would outlive the rename
        with os.fdopen(descriptor, "wb") as stream:
            torch.save(state, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    folder_descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_descriptor)
    finally:
        os.close(folder_descriptor)
