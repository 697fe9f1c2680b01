"""Tests of the example trainers in scripts/trainers/ against autolrs's trainer protocol.

Run with Debian's Python (it has torch and scikit-learn):
    /usr/bin/python3 -m unittest discover -s tests/trainers
"""
import contextlib
import io
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import unittest

import torch

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
TRAINERS = REPOSITORY / "scripts" / "trainers"
sys.path.insert(0, str(TRAINERS))
import torch_digits  # noqa: E402  (found through the path above)

LOSS_LINE = re.compile(r"^step=(\d+) loss=(\S+)$")
VAL_LINE = re.compile(r"^step=(\d+) val_loss=(\S+)$")


def run_in_process(*argv):
    """Runs torch_digits.main on one CPU thread (on the CPU unless `argv` names a device); returns (exit status, stdout lines, stderr text)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = torch_digits.main(["--threads", "1", "--device", "cpu", *argv])
    return status, stdout.getvalue().splitlines(), stderr.getvalue()


def exit_status_of_parse(*argv):
    """The status argparse exits with for `argv`, or None when it parses."""
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            torch_digits.parse_args(list(argv))
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


class ArgumentTest(unittest.TestCase):
    def test_defaults_fill_the_optional_flags(self):
        args = torch_digits.parse_args(["--lr", "0.05", "--steps", "7", "--save", "out.pt"])
        self.assertEqual((args.lr, args.steps, args.save), (0.05, 7, "out.pt"))
        self.assertEqual((args.load, args.seed, args.device, args.val_every, args.batch_size, args.threads),
                         (None, 0, "auto", 50, 32, None))

    def test_every_flag_is_read(self):
        args = torch_digits.parse_args(
            ["--lr", "1e-3", "--steps", "0", "--save", "s.pt", "--load", "l.pt", "--seed", "9",
             "--device", "cpu", "--val-every", "3", "--batch-size", "64", "--threads", "2"])
        self.assertEqual((args.lr, args.steps, args.save, args.load, args.seed, args.device, args.val_every,
                          args.batch_size, args.threads), (1e-3, 0, "s.pt", "l.pt", 9, "cpu", 3, 64, 2))

    def test_bad_arguments_exit_with_status_2(self):
        required = ["--lr", "0.1", "--steps", "5", "--save", "x.pt"]
        cases = {
            "missing --lr": ["--steps", "5", "--save", "x.pt"],
            "missing --steps": ["--lr", "0.1", "--save", "x.pt"],
            "missing --save": ["--lr", "0.1", "--steps", "5"],
            "lr not a number": ["--lr", "fast", "--steps", "5", "--save", "x.pt"],
            "negative lr": ["--lr", "-0.1", "--steps", "5", "--save", "x.pt"],
            "nan lr": ["--lr", "nan", "--steps", "5", "--save", "x.pt"],
            "negative steps": ["--lr", "0.1", "--steps", "-1", "--save", "x.pt"],
            "unknown device": required + ["--device", "tpu"],
            "zero val-every": required + ["--val-every", "0"],
            "zero batch size": required + ["--batch-size", "0"],
            "zero threads": required + ["--threads", "0"],
            "unknown flag": required + ["--momentum", "0.5"],
        }
        for name, argv in cases.items():
            with self.subTest(name):
                self.assertEqual(exit_status_of_parse(*argv), 2)
        self.assertIsNone(exit_status_of_parse(*required))

    @unittest.skipIf(torch.cuda.is_available(), "this machine has a CUDA device")
    def test_device_cuda_without_a_cuda_device_exits_with_status_2(self):
        self.assertEqual(exit_status_of_parse("--lr", "0.1", "--steps", "5", "--save", "x.pt", "--device", "cuda"), 2)

    def test_device_auto_picks_cuda_only_when_available(self):
        expected = "cuda" if torch.cuda.is_available() else "cpu"
        self.assertEqual(torch_digits.resolve_device("auto"), expected)
        self.assertEqual(torch_digits.resolve_device("cpu"), "cpu")


class BatchTest(unittest.TestCase):
    def test_batch_depends_only_on_seed_and_step(self):
        first = torch_digits.batch_indices(3, 17, 1500, 32)
        self.assertTrue(torch.equal(first, torch_digits.batch_indices(3, 17, 1500, 32)))
        self.assertFalse(torch.equal(first, torch_digits.batch_indices(4, 17, 1500, 32)))
        self.assertFalse(torch.equal(first, torch_digits.batch_indices(3, 18, 1500, 32)))

    def test_an_epoch_visits_each_example_at_most_once(self):
        per_epoch = 1500 // 32
        for epoch in (0, 5):
            with self.subTest(epoch=epoch):
                seen = torch.cat([torch_digits.batch_indices(0, epoch * per_epoch + i, 1500, 32)
                                  for i in range(per_epoch)])
                self.assertEqual(len(seen), per_epoch * 32)
                self.assertEqual(len(torch.unique(seen)), per_epoch * 32)

    def test_a_batch_larger_than_the_data_is_the_whole_permuted_set(self):
        batch = torch_digits.batch_indices(0, 2, 10, 32)
        self.assertEqual(sorted(batch.tolist()), list(range(10)))

    def test_mixed_seeds_fit_a_torch_generator(self):
        for seed, step in ((0, 0), (2**63, 2**40), (12345, 1)):
            with self.subTest(seed=seed, step=step):
                mixed = torch_digits.mix_seed(seed, step)
                self.assertTrue(0 <= mixed < 2**63)
                torch.Generator().manual_seed(mixed)
        self.assertNotEqual(torch_digits.mix_seed(0, 1), torch_digits.mix_seed(1, 0))


class ProtocolTest(TempDirTest):
    def test_prints_a_loss_line_per_step_and_val_lines_every_k_and_at_the_end(self):
        status, lines, _ = run_in_process("--lr", "0.05", "--steps", "12", "--val-every", "5",
                                          "--save", str(self.dir / "c.pt"))
        self.assertEqual(status, 0)
        self.assertEqual([int(LOSS_LINE.match(line)[1]) for line in lines_matching(LOSS_LINE, lines)],
                         list(range(1, 13)))
        self.assertEqual([int(VAL_LINE.match(line)[1]) for line in lines_matching(VAL_LINE, lines)], [5, 10, 12])
        self.assertEqual(len(lines), 15)
        self.assertEqual(lines[-1], lines_matching(VAL_LINE, lines)[-1])
        for line in lines:
            self.assertTrue(math.isfinite(float(line.split("=")[-1])), line)

    def test_split_launches_print_the_same_losses_as_one_launch(self):
        _, whole, _ = run_in_process("--lr", "0.05", "--steps", "40", "--val-every", "10", "--seed", "3",
                                     "--save", str(self.dir / "whole.pt"))
        _, first, _ = run_in_process("--lr", "0.05", "--steps", "20", "--val-every", "10", "--seed", "3",
                                     "--save", str(self.dir / "half.pt"))
        _, second, _ = run_in_process("--lr", "0.05", "--steps", "20", "--val-every", "10", "--seed", "3",
                                      "--load", str(self.dir / "half.pt"), "--save", str(self.dir / "split.pt"))
        self.assertEqual(lines_matching(LOSS_LINE, first + second), lines_matching(LOSS_LINE, whole))
        self.assertEqual(lines_matching(VAL_LINE, first + second), lines_matching(VAL_LINE, whole))
        whole_state = torch.load(self.dir / "whole.pt")
        split_state = torch.load(self.dir / "split.pt")
        self.assertEqual(split_state["step"], 40)
        for name, tensor in whole_state["model"].items():
            self.assertTrue(torch.equal(tensor, split_state["model"][name]), name)

    def test_different_seeds_train_on_different_batches(self):
        _, seed0, _ = run_in_process("--lr", "0.05", "--steps", "3", "--save", str(self.dir / "a.pt"))
        _, seed1, _ = run_in_process("--lr", "0.05", "--steps", "3", "--seed", "1", "--save", str(self.dir / "b.pt"))
        self.assertNotEqual(lines_matching(LOSS_LINE, seed0), lines_matching(LOSS_LINE, seed1))

    def test_the_launch_lr_replaces_the_lr_stored_with_the_optimizer(self):
        run_in_process("--lr", "0.05", "--steps", "2", "--save", str(self.dir / "a.pt"))
        run_in_process("--lr", "0.002", "--steps", "2", "--load", str(self.dir / "a.pt"),
                       "--save", str(self.dir / "b.pt"))
        saved = torch.load(self.dir / "b.pt")
        self.assertEqual([group["lr"] for group in saved["optimizer"]["param_groups"]], [0.002])
        self.assertEqual(saved["step"], 4)

    def test_zero_steps_reports_the_validation_loss_and_saves(self):
        run_in_process("--lr", "0.05", "--steps", "3", "--save", str(self.dir / "a.pt"))
        status, lines, _ = run_in_process("--lr", "0.05", "--steps", "0", "--load", str(self.dir / "a.pt"),
                                          "--save", str(self.dir / "b.pt"))
        self.assertEqual(status, 0)
        self.assertEqual(len(lines), 1)
        self.assertRegex(lines[0], r"^step=3 val_loss=\S+$")
        self.assertEqual(torch.load(self.dir / "b.pt")["step"], 3)

    def test_a_huge_lr_prints_nan_lines_and_still_exits_0(self):
        status, lines, _ = run_in_process("--lr", "1e20", "--steps", "6", "--save", str(self.dir / "c.pt"))
        self.assertEqual(status, 0)
        losses = [LOSS_LINE.match(line)[2] for line in lines_matching(LOSS_LINE, lines)]
        self.assertEqual(len(losses), 6)
        self.assertTrue(math.isfinite(float(losses[0])))
        self.assertEqual(losses[-1], "nan")
        self.assertEqual(lines[-1], "step=6 val_loss=nan")
        self.assertEqual(torch.load(self.dir / "c.pt")["step"], 6)

    def test_auto_device_runs_where_resolve_device_says(self):
        _, _, stderr = run_in_process("--device", "auto", "--lr", "0.05", "--steps", "1",
                                      "--save", str(self.dir / "c.pt"))
        self.assertIn(f"device={torch_digits.resolve_device('auto')} world_size=1", stderr)

    def test_a_foreign_checkpoint_is_refused(self):
        torch.save({"weights": [1, 2]}, self.dir / "foreign.pt")
        with self.assertRaisesRegex(ValueError, "not a torch_digits checkpoint"):
            run_in_process("--lr", "0.05", "--steps", "1", "--load", str(self.dir / "foreign.pt"),
                           "--save", str(self.dir / "c.pt"))
        self.assertFalse((self.dir / "c.pt").exists())


class CheckpointTest(TempDirTest):
    def test_checkpoint_holds_model_optimizer_and_global_step_and_nothing_else_is_left(self):
        run_in_process("--lr", "0.05", "--steps", "5", "--seed", "7", "--save", str(self.dir / "c.pt"))
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.pt"])
        state = torch.load(self.dir / "c.pt")
        self.assertEqual(state["format"], torch_digits.CHECKPOINT_FORMAT)
        self.assertEqual((state["step"], state["seed"]), (5, 7))
        model = torch_digits.build_model()
        model.load_state_dict(state["model"])
        self.assertEqual(len(state["optimizer"]["state"]), len(list(model.parameters())))

    def test_saving_replaces_an_existing_checkpoint_with_a_file_of_the_umask_mode(self):
        target = self.dir / "c.pt"
        target.write_bytes(b"old")
        previous_umask = os.umask(0o027)
        try:
            torch_digits.save_atomically({"step": 1}, str(target))
        finally:
            os.umask(previous_umask)
        self.assertEqual(torch.load(target), {"step": 1})
        self.assertEqual(target.stat().st_mode & 0o777, 0o640)
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.pt"])

    def test_a_failed_save_keeps_the_old_checkpoint_and_leaves_no_temporary(self):
        target = self.dir / "c.pt"
        target.write_bytes(b"old")
        with self.assertRaises(Exception):
            torch_digits.save_atomically({"unpicklable": lambda: 0}, str(target))
        self.assertEqual(target.read_bytes(), b"old")
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.pt"])


class ShippedConfigTest(unittest.TestCase):
    """configs/torch-example.json and configs/torchrun-example.json against the trainer they launch."""

    PLACEHOLDERS = {"{lr}": "0.01", "{steps}": "20", "{save_checkpoint}": "out.pt",
                    "{load_checkpoint}": "in.pt", "{seed}": "4"}

    def expand(self, template):
        for placeholder, value in self.PLACEHOLDERS.items():
            template = template.replace(placeholder, value)
        return template

    def test_the_trainer_accepts_the_argv_each_config_builds(self):
        for name in ("torch-example.json", "torchrun-example.json"):
            with self.subTest(name):
                spec = json.loads((REPOSITORY / "configs" / name).read_text())
                trainer = spec["trainer"]
                command = [self.expand(part) for part in trainer["command"] + trainer["resume_args"]]
                script = next(i for i, part in enumerate(command) if part.endswith("torch_digits.py"))
                workdir = REPOSITORY / "configs" / trainer["workdir"]
                self.assertEqual((workdir / command[script]).resolve(), TRAINERS / "torch_digits.py")
                args = torch_digits.parse_args(command[script + 1:])
                self.assertEqual((args.lr, args.steps, args.save, args.load, args.seed, args.val_every),
                                 (0.01, 20, "out.pt", "in.pt", 4, 10))
                self.assertEqual(trainer["env"], {"OMP_NUM_THREADS": "1"})

    def test_the_config_patterns_read_the_trainer_lines_apart(self):
        # Python's re and RE2 agree on these patterns (\b, \S, named groups).
        for name in ("torch-example.json", "torchrun-example.json"):
            with self.subTest(name):
                trainer = json.loads((REPOSITORY / "configs" / name).read_text())["trainer"]
                loss = re.compile(trainer["loss"]["pattern"])
                val_loss = re.compile(trainer["val_loss"]["pattern"])
                self.assertEqual(loss.search("step=7 loss=0.25")["loss"], "0.25")
                self.assertEqual(loss.search("step=7 loss=nan")["loss"], "nan")
                self.assertIsNone(loss.search("step=7 val_loss=0.5"))
                self.assertEqual(val_loss.search("step=7 val_loss=0.5")["loss"], "0.5")
                self.assertIsNone(val_loss.search("step=7 loss=0.25"))


class ProcessTest(TempDirTest):
    """The scripts as autolrs runs them: their own interpreter from the shebang, output through pipes."""

    def test_torch_digits_runs_as_a_program(self):
        result = subprocess.run(
            [str(TRAINERS / "torch_digits.py"), "--lr", "0.05", "--steps", "3", "--val-every", "2",
             "--save", str(self.dir / "c.pt")],
            env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([line.split()[0] for line in result.stdout.splitlines()],
                         ["step=1", "step=2", "step=2", "step=3", "step=3"])
        self.assertRegex(result.stderr, r"torch_digits: device=\w+ world_size=1 ")
        self.assertTrue((self.dir / "c.pt").is_file())

    def run_minimal(self, *argv):
        result = subprocess.run([sys.executable, str(TRAINERS / "minimal_trainer.py"), *argv],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.splitlines()

    def test_minimal_trainer_resumes_exactly_and_learns(self):
        whole = self.run_minimal("--lr", "0.1", "--steps", "200", "--save", str(self.dir / "whole.json"))
        first = self.run_minimal("--lr", "0.1", "--steps", "120", "--save", str(self.dir / "half.json"))
        second = self.run_minimal("--lr", "0.1", "--steps", "80", "--load", str(self.dir / "half.json"),
                                  "--save", str(self.dir / "split.json"))
        self.assertEqual(first + second, whole)
        self.assertEqual((self.dir / "split.json").read_text(), (self.dir / "whole.json").read_text())
        self.assertEqual(sorted(os.listdir(self.dir)), ["half.json", "split.json", "whole.json"])
        losses = [float(LOSS_LINE.match(line)[2]) for line in whole]
        self.assertEqual(len(losses), 200)
        self.assertLess(sum(losses[-20:]) / 20, sum(losses[:20]) / 100)

    def test_minimal_trainer_prints_non_finite_losses_when_it_diverges(self):
        lines = self.run_minimal("--lr", "1000", "--steps", "100", "--save", str(self.dir / "c.json"))
        self.assertEqual(len(lines), 100)
        self.assertIn(LOSS_LINE.match(lines[-1])[2], ("inf", "nan"))


if __name__ == "__main__":
    unittest.main()
