"""What every PyTorch example trainer in scripts/trainers/ must do under autolrs's trainer protocol
(docs/trainer-protocol.md), as a mixin that test_torch_<trainer>.py runs against its trainer module, and
the helpers those tests share. Not a test module itself (unittest discovers test_*.py only)."""
import contextlib
import io
import json
import math
import os
import pathlib
import re
import sys
import tempfile
import unittest
import unittest.mock

import torch

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
TRAINERS = REPOSITORY / "scripts" / "trainers"
sys.path.insert(0, str(TRAINERS))
import torch_common  # noqa: E402  (found through the path above)

LOSS_LINE = re.compile(r"^step=(\d+) loss=(\S+)$")
VAL_LINE = re.compile(r"^step=(\d+) val_loss=(\S+)$")


def run_in_process(trainer, *argv):
    """Runs trainer.main on one CPU thread (on the CPU unless `argv` names a device); returns (exit status,
    stdout lines, stderr text)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = trainer.main(["--threads", "1", "--device", "cpu", *argv])
    return status, stdout.getvalue().splitlines(), stderr.getvalue()


def exit_status_of_parse(trainer, *argv):
    """The status argparse exits with for `argv`, or None when it parses."""
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            trainer.parse_args(list(argv))
        except SystemExit as exit_request:
            return exit_request.code
    return None


def lines_matching(pattern, lines):
    return [line for line in lines if pattern.match(line)]


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._temp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self._temp.name)

    def tearDown(self):
        self._temp.cleanup()


class LaunchProtocolChecks:
    """Mix into a TempDirTest that sets `trainer` (the module), `name` (its checkpoint's name for it) and
    `quick` (extra argv that keep its launches short, e.g. a small batch)."""

    trainer = None
    name = ""
    quick = ()

    def run_trainer(self, *argv):
        return run_in_process(self.trainer, *self.quick, *argv)

    def test_bad_arguments_exit_with_status_2(self):
        required = ["--lr", "0.1", "--steps", "5", "--save", "x.pt"]
        cases = {
            "missing --lr": ["--steps", "5", "--save", "x.pt"],
            "missing --steps": ["--lr", "0.1", "--save", "x.pt"],
            "missing --save": ["--lr", "0.1", "--steps", "5"],
            "lr not a number": ["--lr", "fast", "--steps", "5", "--save", "x.pt"],
            "negative lr": ["--lr", "-0.1", "--steps", "5", "--save", "x.pt"],
            "nan lr": ["--lr", "nan", "--steps", "5", "--save", "x.pt"],
            "negative lr-end": required + ["--lr-end", "-1e-3"],
            "infinite lr-end": required + ["--lr-end", "inf"],
            "negative steps": ["--lr", "0.1", "--steps", "-1", "--save", "x.pt"],
            "unknown optimizer": required + ["--optimizer", "lion"],
            "unknown device": required + ["--device", "tpu"],
            "zero val-every": required + ["--val-every", "0"],
            "zero batch size": required + ["--batch-size", "0"],
            "zero threads": required + ["--threads", "0"],
            "unknown flag": required + ["--momentum", "0.5"],
        }
        for name, argv in cases.items():
            with self.subTest(name):
                self.assertEqual(exit_status_of_parse(self.trainer, *argv), 2)
        self.assertIsNone(exit_status_of_parse(self.trainer, *required))
        self.assertIsNone(exit_status_of_parse(self.trainer, *required, "--lr-end", "0", "--optimizer", "sf-adamw"))

    def test_prints_a_loss_line_per_step_and_val_lines_every_k_and_at_the_end(self):
        status, lines, _ = self.run_trainer("--lr", "0.05", "--steps", "12", "--val-every", "5",
                                            "--save", str(self.dir / "c.pt"))
        self.assertEqual(status, 0)
        self.assertEqual([int(LOSS_LINE.match(line)[1]) for line in lines_matching(LOSS_LINE, lines)],
                         list(range(1, 13)))
        self.assertEqual([int(VAL_LINE.match(line)[1]) for line in lines_matching(VAL_LINE, lines)], [5, 10, 12])
        self.assertEqual(len(lines), 15)
        self.assertEqual(lines[-1], lines_matching(VAL_LINE, lines)[-1])
        for line in lines:
            self.assertTrue(math.isfinite(float(line.split("=")[-1])), line)

    def test_split_launches_print_the_same_losses_as_one_launch_with_every_optimizer(self):
        for optimizer, lr in (("sgd", "0.05"), ("adamw", "0.003"), ("sf-sgd", "0.05"), ("sf-adamw", "0.003")):
            with self.subTest(optimizer):
                common = ["--lr", lr, "--val-every", "10", "--seed", "3", "--optimizer", optimizer]
                _, whole, _ = self.run_trainer(*common, "--steps", "40", "--save", str(self.dir / "whole.pt"))
                _, first, _ = self.run_trainer(*common, "--steps", "20", "--save", str(self.dir / "half.pt"))
                _, second, _ = self.run_trainer(*common, "--steps", "20", "--load", str(self.dir / "half.pt"),
                                                "--save", str(self.dir / "split.pt"))
                self.assertEqual(lines_matching(LOSS_LINE, first + second), lines_matching(LOSS_LINE, whole))
                self.assertEqual(lines_matching(VAL_LINE, first + second), lines_matching(VAL_LINE, whole))
                self.assertNotEqual(lines_matching(LOSS_LINE, first)[0], lines_matching(LOSS_LINE, first)[-1])
                whole_state = torch.load(self.dir / "whole.pt")
                split_state = torch.load(self.dir / "split.pt")
                self.assertEqual(split_state["step"], 40)
                for name, tensor in whole_state["model"].items():
                    self.assertTrue(torch.equal(tensor, split_state["model"][name]), name)

    def test_serve_mode_prints_and_saves_what_separate_launches_do(self):
        common = ["--val-every", "5", "--seed", "3"]
        _, first, _ = self.run_trainer(*common, "--lr", "0.05", "--steps", "7", "--save", str(self.dir / "a.pt"))
        _, second, _ = self.run_trainer(*common, "--lr", "0.05", "--lr-end", "0.01", "--steps", "6",
                                        "--load", str(self.dir / "a.pt"), "--save", str(self.dir / "b.pt"))
        commands = [{"id": "stage-000-probe-00", "lr": 0.05, "lr_end": 0.05, "steps": 7, "load_checkpoint": None,
                     "save_checkpoint": str(self.dir / "served-a.pt"), "seed": 3, "global_step": 0, "stage": 0,
                     "probe": 0, "run_dir": str(self.dir)},
                    {"id": "step-000000013", "lr": 0.05, "lr_end": 0.01, "steps": 6,
                     "load_checkpoint": str(self.dir / "served-a.pt"), "save_checkpoint": str(self.dir / "served-b.pt"),
                     "seed": 3, "global_step": 7, "stage": 0, "probe": -1, "run_dir": str(self.dir)}]
        stdin = io.StringIO("".join(json.dumps(command) + "\n" for command in commands))
        with unittest.mock.patch("sys.stdin", stdin):
            status, served, _ = self.run_trainer(*common, "--serve")
        self.assertEqual(status, 0)
        self.assertEqual(served, first + ['{"autolrs": "done", "id": "stage-000-probe-00"}'] +
                         second + ['{"autolrs": "done", "id": "step-000000013"}'])
        exec_state, served_state = torch.load(self.dir / "b.pt"), torch.load(self.dir / "served-b.pt")
        self.assertEqual(served_state["step"], 13)
        for name, tensor in exec_state["model"].items():
            self.assertTrue(torch.equal(tensor, served_state["model"][name]), name)

    def test_a_ramp_launch_trains_its_kth_step_at_launch_lr_of_k(self):
        _, ramp, _ = self.run_trainer("--lr", "0.1", "--lr-end", "0.02", "--steps", "4",
                                      "--save", str(self.dir / "ramp.pt"))
        pieces, load = [], []
        for k in range(4):
            lr = repr(torch_common.launch_lr(0.1, 0.02, k, 4))
            _, lines, _ = self.run_trainer("--lr", lr, "--steps", "1", *load, "--save", str(self.dir / f"{k}.pt"))
            pieces += lines
            load = ["--load", str(self.dir / f"{k}.pt")]
        self.assertEqual(lines_matching(LOSS_LINE, pieces), lines_matching(LOSS_LINE, ramp))
        self.assertEqual(lines_matching(VAL_LINE, pieces)[-1], lines_matching(VAL_LINE, ramp)[-1])
        _, constant, _ = self.run_trainer("--lr", "0.1", "--steps", "4", "--save", str(self.dir / "constant.pt"))
        self.assertNotEqual(lines_matching(VAL_LINE, constant), lines_matching(VAL_LINE, ramp))

    def test_ramp_launches_that_share_a_boundary_continue_one_ramp(self):
        _, whole, _ = self.run_trainer("--lr", "0.1", "--lr-end", "0", "--steps", "30",
                                       "--save", str(self.dir / "whole.pt"))
        _, first, _ = self.run_trainer("--lr", "0.1", "--lr-end", "0.05", "--steps", "15",
                                       "--save", str(self.dir / "half.pt"))
        _, second, _ = self.run_trainer("--lr", "0.05", "--lr-end", "0", "--steps", "15",
                                        "--load", str(self.dir / "half.pt"), "--save", str(self.dir / "split.pt"))
        split_losses = [float(LOSS_LINE.match(line)[2]) for line in lines_matching(LOSS_LINE, first + second)]
        whole_losses = [float(LOSS_LINE.match(line)[2]) for line in lines_matching(LOSS_LINE, whole)]
        self.assertEqual(len(split_losses), 30)
        for split_loss, whole_loss in zip(split_losses, whole_losses):
            self.assertAlmostEqual(split_loss, whole_loss, delta=1e-5 * abs(whole_loss))

    def test_different_seeds_train_on_different_batches(self):
        _, seed0, _ = self.run_trainer("--lr", "0.05", "--steps", "3", "--save", str(self.dir / "a.pt"))
        _, seed1, _ = self.run_trainer("--lr", "0.05", "--steps", "3", "--seed", "1", "--save", str(self.dir / "b.pt"))
        self.assertNotEqual(lines_matching(LOSS_LINE, seed0), lines_matching(LOSS_LINE, seed1))

    def test_the_launch_lr_replaces_the_lr_stored_with_the_optimizer(self):
        self.run_trainer("--lr", "0.05", "--steps", "2", "--save", str(self.dir / "a.pt"))
        self.run_trainer("--lr", "0.002", "--steps", "2", "--load", str(self.dir / "a.pt"),
                         "--save", str(self.dir / "b.pt"))
        saved = torch.load(self.dir / "b.pt")
        self.assertEqual([group["lr"] for group in saved["optimizer"]["param_groups"]], [0.002])
        self.assertEqual(saved["step"], 4)

    def test_zero_steps_reports_the_validation_loss_and_saves(self):
        self.run_trainer("--lr", "0.05", "--steps", "3", "--save", str(self.dir / "a.pt"))
        status, lines, _ = self.run_trainer("--lr", "0.05", "--steps", "0", "--load", str(self.dir / "a.pt"),
                                            "--save", str(self.dir / "b.pt"))
        self.assertEqual(status, 0)
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^step=3 val_loss=\S+$")
        self.assertEqual(torch.load(self.dir / "b.pt")["step"], 3)

    def test_a_huge_lr_prints_its_runaway_losses_and_still_exits_0(self):
        status, lines, _ = self.run_trainer("--lr", "1e20", "--steps", "6", "--save", str(self.dir / "c.pt"))
        self.assertEqual(status, 0)
        losses = [float(LOSS_LINE.match(line)[2]) for line in lines_matching(LOSS_LINE, lines)]
        self.assertEqual(len(losses), 6)
        self.assertLess(losses[0], 10)
        self.assertFalse(losses[-1] < 1e6, losses)  # nan, inf, or huge: an LSTM's saturating gates keep it finite
        self.assertFalse(float(VAL_LINE.match(lines[-1])[2]) < 1e6, lines[-1])
        self.assertEqual(torch.load(self.dir / "c.pt")["step"], 6)

    def test_a_foreign_checkpoint_is_refused(self):
        torch.save({"weights": [1, 2]}, self.dir / "foreign.pt")
        with self.assertRaisesRegex(ValueError, f"not a {self.name} checkpoint"):
            self.run_trainer("--lr", "0.05", "--steps", "1", "--load", str(self.dir / "foreign.pt"),
                             "--save", str(self.dir / "c.pt"))
        self.assertFalse((self.dir / "c.pt").exists())

    def test_a_checkpoint_continues_only_with_the_optimizer_that_saved_it(self):
        self.run_trainer("--lr", "0.05", "--steps", "1", "--optimizer", "sf-sgd", "--save", str(self.dir / "a.pt"))
        with self.assertRaisesRegex(ValueError, "trained with --optimizer sf-sgd, cannot continue with sgd"):
            self.run_trainer("--lr", "0.05", "--steps", "1", "--load", str(self.dir / "a.pt"),
                             "--save", str(self.dir / "b.pt"))
        self.assertFalse((self.dir / "b.pt").exists())

    def test_checkpoint_holds_model_optimizer_and_global_step_and_nothing_else_is_left(self):
        for optimizer, state_names in (("sgd", ["momentum_buffer"]), ("adamw", ["exp_avg", "exp_avg_sq", "step"]),
                                       ("sf-sgd", ["x", "z"]), ("sf-adamw", ["v", "x", "z"])):
            with self.subTest(optimizer):
                path = self.dir / f"{optimizer}.pt"
                self.run_trainer("--lr", "0.01", "--steps", "5", "--seed", "7", "--optimizer", optimizer,
                                 "--save", str(path))
                state = torch.load(path)
                self.assertEqual((state["format"], state["step"], state["seed"], state["optimizer_name"]),
                                 (self.trainer.CHECKPOINT_FORMAT, 5, 7, optimizer))
                parameters = list(state["model"].values())
                per_parameter = state["optimizer"]["state"]
                self.assertEqual(len(per_parameter), len(parameters))
                self.assertEqual(sorted(per_parameter[0]), state_names)
                if optimizer.startswith("sf-"):
                    # the model is Schedule-Free's averaged iterate x, which is where validation happens
                    for index, tensor in enumerate(parameters):
                        self.assertTrue(torch.equal(tensor, per_parameter[index]["x"]))
                    self.assertEqual(state["optimizer"]["param_groups"][0]["step"], 5)
                    self.assertAlmostEqual(state["optimizer"]["param_groups"][0]["lr_sq_sum"], 5 * 0.01 ** 2)
        self.assertEqual(sorted(os.listdir(self.dir)), ["adamw.pt", "sf-adamw.pt", "sf-sgd.pt", "sgd.pt"])
