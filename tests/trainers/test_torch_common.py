"""Tests of scripts/trainers/torch_common.py, the helpers the PyTorch example trainers share."""
import os
import unittest

import torch

from protocol_checks import TempDirTest
import schedule_free  # noqa: E402  (protocol_checks puts scripts/trainers on the path)
import torch_common  # noqa: E402


class LaunchLrTest(unittest.TestCase):
    def test_without_an_end_every_step_trains_at_lr(self):
        self.assertEqual([torch_common.launch_lr(0.3, None, k, 5) for k in range(5)], [0.3] * 5)

    def test_a_ramp_moves_linearly_from_lr_towards_lr_end_which_the_next_step_would_get(self):
        cases = [  # (lr, lr_end, steps, expected LRs of steps 0 … steps−1)
            (0.1, 0.0, 4, [0.1, 0.075, 0.05, 0.025]),
            (0.02, 0.1, 4, [0.02, 0.04, 0.06, 0.08]),
            (0.5, 0.5, 3, [0.5, 0.5, 0.5]),
            (1.0, 0.0, 1, [1.0]),
        ]
        for lr, lr_end, steps, expected in cases:
            with self.subTest(lr=lr, lr_end=lr_end, steps=steps):
                got = [torch_common.launch_lr(lr, lr_end, k, steps) for k in range(steps)]
                for value, want in zip(got, expected):
                    self.assertAlmostEqual(value, want, places=15)
                self.assertEqual(got[0], lr)
                self.assertAlmostEqual(torch_common.launch_lr(lr, lr_end, steps, steps), lr_end, places=15)


class OptimizerTest(unittest.TestCase):
    def test_each_name_makes_its_optimizer(self):
        expected = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW, "sf-sgd": schedule_free.ScheduleFreeSGD,
                    "sf-adamw": schedule_free.ScheduleFreeAdamW}
        self.assertEqual(tuple(expected), torch_common.OPTIMIZERS)
        for name, kind in expected.items():
            with self.subTest(name):
                optimizer = torch_common.make_optimizer(name, [torch.nn.Parameter(torch.zeros(2))], 0.25)
                self.assertIs(type(optimizer), kind)
                self.assertEqual(optimizer.param_groups[0]["lr"], 0.25)
        sgd = torch_common.make_optimizer("sgd", [torch.nn.Parameter(torch.zeros(2))], 0.1)
        self.assertEqual((sgd.param_groups[0]["momentum"], sgd.param_groups[0]["weight_decay"]), (0.9, 0))
        with self.assertRaises(ValueError):
            torch_common.make_optimizer("lion", [torch.nn.Parameter(torch.zeros(2))], 0.1)


class SeedTest(unittest.TestCase):
    def test_mixed_seeds_fit_a_torch_generator(self):
        for seed, step in ((0, 0), (2**63, 2**40), (12345, 1)):
            with self.subTest(seed=seed, step=step):
                mixed = torch_common.mix_seed(seed, step)
                self.assertTrue(0 <= mixed < 2**63)
                torch.Generator().manual_seed(mixed)
        self.assertNotEqual(torch_common.mix_seed(0, 1), torch_common.mix_seed(1, 0))


class CheckpointTest(TempDirTest):
    def test_a_checkpoint_without_an_optimizer_name_was_trained_with_sgd(self):
        torch.save({"format": "f-1", "step": 3}, self.dir / "old.pt")
        self.assertEqual(torch_common.load_checkpoint(self.dir / "old.pt", "f-1", "t", "sgd", "cpu")["step"], 3)
        with self.assertRaisesRegex(ValueError, "trained with --optimizer sgd, cannot continue with adamw"):
            torch_common.load_checkpoint(self.dir / "old.pt", "f-1", "t", "adamw", "cpu")
        with self.assertRaisesRegex(ValueError, "not a t checkpoint"):
            torch_common.load_checkpoint(self.dir / "old.pt", "f-2", "t", "sgd", "cpu")

    def test_saving_replaces_an_existing_checkpoint_with_a_file_of_the_umask_mode(self):
        target = self.dir / "c.pt"
        target.write_bytes(b"old")
        previous_umask = os.umask(0o027)
        try:
            torch_common.save_atomically({"step": 1}, str(target))
        finally:
            os.umask(previous_umask)
        self.assertEqual(torch.load(target), {"step": 1})
        self.assertEqual(target.stat().st_mode & 0o777, 0o640)
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.pt"])

    def test_a_failed_save_keeps_the_old_checkpoint_and_leaves_no_temporary(self):
        target = self.dir / "c.pt"
        target.write_bytes(b"old")
        with self.assertRaises(Exception):
            torch_common.save_atomically({"unpicklable": lambda: 0}, str(target))
        self.assertEqual(target.read_bytes(), b"old")
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.pt"])


if __name__ == "__main__":
    unittest.main()
