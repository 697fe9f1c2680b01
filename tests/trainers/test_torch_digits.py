"""Tests of scripts/trainers/torch_digits.py and minimal_trainer.py against autolrs's trainer protocol.

Run with Debian's Python (it has torch and scikit-learn):
    /usr/bin/python3 -m unittest discover -s tests/trainers
"""
import os
import subprocess
import sys
import unittest

import torch

from protocol_checks import LOSS_LINE, TRAINERS, LaunchProtocolChecks, TempDirTest, exit_status_of_parse
import torch_digits  # noqa: E402  (protocol_checks puts scripts/trainers on the path)


class ArgumentTest(unittest.TestCase):
    def test_defaults_fill_the_optional_flags(self):
        args = torch_digits.parse_args(["--lr", "0.05", "--steps", "7", "--save", "out.pt"])
        self.assertEqual((args.lr, args.steps, args.save), (0.05, 7, "out.pt"))
        self.assertEqual((args.lr_end, args.load, args.seed, args.optimizer, args.device, args.val_every,
                          args.batch_size, args.threads), (None, None, 0, "sgd", "auto", 50, 32, None))

    def test_every_flag_is_read(self):
        args = torch_digits.parse_args(
            ["--lr", "1e-3", "--lr-end", "1e-4", "--steps", "0", "--save", "s.pt", "--load", "l.pt", "--seed", "9",
             "--optimizer", "sf-adamw", "--device", "cpu", "--val-every", "3", "--batch-size", "64", "--threads", "2"])
        self.assertEqual((args.lr, args.lr_end, args.steps, args.save, args.load, args.seed, args.optimizer,
                          args.device, args.val_every, args.batch_size, args.threads),
                         (1e-3, 1e-4, 0, "s.pt", "l.pt", 9, "sf-adamw", "cpu", 3, 64, 2))

    @unittest.skipIf(torch.cuda.is_available(), "this machine has a CUDA device")
    def test_device_cuda_without_a_cuda_device_exits_with_status_2(self):
        self.assertEqual(exit_status_of_parse(torch_digits, "--lr", "0.1", "--steps", "5", "--save", "x.pt",
                                              "--device", "cuda"), 2)

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


class DigitsProtocolTest(LaunchProtocolChecks, TempDirTest):
    trainer = torch_digits
    name = "torch_digits"

    def test_auto_device_runs_where_resolve_device_says(self):
        _, _, stderr = self.run_trainer("--device", "auto", "--lr", "0.05", "--steps", "1",
                                        "--save", str(self.dir / "c.pt"))
        self.assertIn(f"device={torch_digits.resolve_device('auto')} world_size=1", stderr)

    def test_a_huge_lr_ends_in_nan(self):
        _, lines, _ = self.run_trainer("--lr", "1e20", "--steps", "6", "--save", str(self.dir / "c.pt"))
        self.assertEqual(LOSS_LINE.match(lines[-2])[2], "nan")
        self.assertEqual(lines[-1], "step=6 val_loss=nan")


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

    def test_minimal_trainer_ramps_its_lr_within_a_launch_and_ramps_join_at_their_boundary(self):
        whole = self.run_minimal("--lr", "0.1", "--lr-end", "0", "--steps", "200", "--save", str(self.dir / "whole.json"))
        first = self.run_minimal("--lr", "0.1", "--lr-end", "0.04", "--steps", "120",
                                 "--save", str(self.dir / "half.json"))
        second = self.run_minimal("--lr", "0.04", "--lr-end", "0", "--steps", "80", "--load", str(self.dir / "half.json"),
                                  "--save", str(self.dir / "split.json"))
        constant = self.run_minimal("--lr", "0.1", "--steps", "200", "--save", str(self.dir / "constant.json"))
        ramp_losses = [float(LOSS_LINE.match(line)[2]) for line in whole]
        split_losses = [float(LOSS_LINE.match(line)[2]) for line in first + second]
        self.assertEqual(len(split_losses), 200)
        for split_loss, ramp_loss in zip(split_losses, ramp_losses):
            self.assertAlmostEqual(split_loss, ramp_loss, delta=1e-9 * ramp_loss)
        # a step prints the loss before its update: the first two agree when the ramp's step 0 trains at --lr
        self.assertEqual(whole[:2], constant[:2])
        self.assertNotEqual(whole[2], constant[2])

    def test_minimal_trainer_prints_non_finite_losses_when_it_diverges(self):
        lines = self.run_minimal("--lr", "1000", "--steps", "100", "--save", str(self.dir / "c.json"))
        self.assertEqual(len(lines), 100)
        self.assertIn(LOSS_LINE.match(lines[-1])[2], ("inf", "nan"))


if __name__ == "__main__":
    unittest.main()
