"""Tests of scripts/trainers/torch_charlm.py: its corpus, batches and model, and autolrs's trainer protocol.

Run with Debian's Python (it has torch):
    /usr/bin/python3 -m unittest discover -s tests/trainers
"""
import math
import os
import subprocess
import unittest

import torch

from protocol_checks import (LOSS_LINE, TRAINERS, VAL_LINE, LaunchProtocolChecks, TempDirTest, exit_status_of_parse,
                             lines_matching)
import torch_charlm  # noqa: E402  (protocol_checks puts scripts/trainers on the path)


class ArgumentTest(unittest.TestCase):
    def test_defaults_fill_the_optional_flags(self):
        args = torch_charlm.parse_args(["--lr", "0.5", "--steps", "7", "--save", "out.pt"])
        self.assertEqual((args.lr, args.lr_end, args.steps, args.save, args.load, args.seed, args.optimizer,
                          args.device, args.val_every, args.batch_size, args.threads, args.clip_norm),
                         (0.5, None, 7, "out.pt", None, 0, "sgd", "auto", 50, 16, None, None))

    def test_clip_norm_must_be_positive_and_finite(self):
        required = ["--lr", "0.1", "--steps", "5", "--save", "x.pt"]
        for value in ("0", "-1", "nan", "inf"):
            with self.subTest(value):
                self.assertEqual(exit_status_of_parse(torch_charlm, *required, "--clip-norm", value), 2)
        self.assertEqual(torch_charlm.parse_args(required + ["--clip-norm", "2.5"]).clip_norm, 2.5)


class CorpusTest(TempDirTest):
    def test_the_corpus_is_the_first_bytes_of_the_top_level_py_files_in_sorted_order(self):
        (self.dir / "b.py").write_bytes(b"bbbb")
        (self.dir / "a.py").write_bytes(b"aaa")
        (self.dir / "c.py").write_bytes(b"cccccc")
        (self.dir / "a.txt").write_bytes(b"txt")
        (self.dir / "sub").mkdir()
        (self.dir / "sub" / "0.py").write_bytes(b"nested")
        self.assertEqual(torch_charlm.read_corpus(self.dir, 9), b"aaabbbbcc")
        self.assertEqual(torch_charlm.read_corpus(self.dir, 13), b"aaabbbbcccccc")
        with self.assertRaisesRegex(ValueError, "only 13 bytes"):
            torch_charlm.read_corpus(self.dir, 14)

    def test_the_stdlib_corpus_has_its_size_and_starts_with_the_first_file(self):
        data = torch_charlm.read_corpus()
        self.assertEqual(len(data), torch_charlm.CORPUS_BYTES)
        first = sorted(torch_charlm.CORPUS_DIR.glob("*.py"))[0]
        self.assertTrue(data.startswith(first.read_bytes()))

    def test_tokens_are_printable_ascii_tab_and_newline_and_one_for_the_rest(self):
        tokens = torch_charlm.tokenize(b" ~\t\n\r\xc3\xa9A")
        other = torch_charlm.VOCABULARY_SIZE - 1
        self.assertEqual(tokens.tolist(), [0, 94, 95, 96, other, other, other, ord("A") - 32])
        self.assertEqual(torch_charlm.VOCABULARY_SIZE, 98)
        everything = torch_charlm.tokenize(bytes(range(256)))
        self.assertEqual(sorted(set(everything.tolist())), list(range(98)))

    def test_training_and_validation_tokens_split_the_corpus(self):
        corpus = torch_charlm.Corpus("cpu")
        self.assertEqual(len(corpus.train), torch_charlm.CORPUS_BYTES - torch_charlm.VALIDATION_BYTES)
        held_out = torch_charlm.tokenize(torch_charlm.read_corpus()[-torch_charlm.VALIDATION_BYTES:])
        self.assertTrue(torch.equal(corpus.validation, torch_charlm.validation_windows(held_out)))


class BatchTest(unittest.TestCase):
    TOKENS = torch.arange(1000)

    def test_a_batch_holds_windows_of_consecutive_tokens_inside_the_training_tokens(self):
        windows = torch_charlm.batch_windows(self.TOKENS, 0, 5, 64)
        self.assertEqual(tuple(windows.shape), (64, torch_charlm.SEQUENCE_LENGTH + 1))
        self.assertTrue(torch.equal(windows - windows[:, :1], torch.arange(torch_charlm.SEQUENCE_LENGTH + 1).expand(64, -1)))
        self.assertGreaterEqual(windows.min().item(), 0)
        self.assertLessEqual(windows.max().item(), 999)

    def test_batch_depends_only_on_seed_and_step(self):
        first = torch_charlm.batch_windows(self.TOKENS, 3, 17, 8)
        self.assertTrue(torch.equal(first, torch_charlm.batch_windows(self.TOKENS, 3, 17, 8)))
        self.assertFalse(torch.equal(first, torch_charlm.batch_windows(self.TOKENS, 4, 17, 8)))
        self.assertFalse(torch.equal(first, torch_charlm.batch_windows(self.TOKENS, 3, 18, 8)))

    def test_validation_windows_are_fixed_and_spread_over_the_held_out_tokens(self):
        windows = torch_charlm.validation_windows(self.TOKENS)
        self.assertEqual(tuple(windows.shape), (torch_charlm.VAL_SEQUENCES, torch_charlm.SEQUENCE_LENGTH + 1))
        self.assertEqual((windows[0, 0].item(), windows[-1, -1].item()), (0, 999))
        self.assertTrue(torch.equal(windows, torch_charlm.validation_windows(self.TOKENS)))


class CharlmProtocolTest(LaunchProtocolChecks, TempDirTest):
    trainer = torch_charlm
    name = "torch_charlm"
    quick = ("--batch-size", "4")

    def test_sgd_learns_the_byte_statistics_within_150_steps(self):
        _, lines, stderr = self.run_trainer("--lr", "1", "--steps", "150", "--val-every", "150", "--batch-size", "16",
                                            "--save", str(self.dir / "c.pt"))
        self.assertEqual(len(lines_matching(VAL_LINE, lines)), 1)
        first_loss = float(LOSS_LINE.match(lines[0])[2])
        val_loss = float(VAL_LINE.match(lines[-1])[2])
        self.assertAlmostEqual(first_loss, math.log(torch_charlm.VOCABULARY_SIZE), delta=0.1)
        self.assertLess(val_loss, 3.1)  # a unigram model of the bytes reaches about 3.2 nats
        self.assertRegex(stderr, r"torch_charlm: device=cpu import_s=\S+ setup_s=\S+ train_s=\S+ steps_per_s=\S+")

    def test_clip_norm_bounds_each_update(self):
        _, free, _ = self.run_trainer("--lr", "50", "--steps", "5", "--save", str(self.dir / "free.pt"))
        _, clipped, _ = self.run_trainer("--lr", "50", "--steps", "5", "--clip-norm", "0.01",
                                         "--save", str(self.dir / "clipped.pt"))
        self.assertEqual(free[0], clipped[0])
        self.assertLess(float(VAL_LINE.match(clipped[-1])[2]), float(VAL_LINE.match(free[-1])[2]))

    def test_a_checkpoint_of_another_corpus_is_refused(self):
        self.run_trainer("--lr", "0.05", "--steps", "1", "--save", str(self.dir / "a.pt"))
        checkpoint = torch.load(self.dir / "a.pt")
        checkpoint["corpus_sha256"] = "0" * 64
        torch.save(checkpoint, self.dir / "other.pt")
        with self.assertRaisesRegex(ValueError, "trained on another corpus"):
            self.run_trainer("--lr", "0.05", "--steps", "1", "--load", str(self.dir / "other.pt"),
                             "--save", str(self.dir / "b.pt"))
        self.assertFalse((self.dir / "b.pt").exists())


class ProcessTest(TempDirTest):
    def test_torch_charlm_runs_as_a_program(self):
        result = subprocess.run(
            [str(TRAINERS / "torch_charlm.py"), "--lr", "0.5", "--lr-end", "0.1", "--steps", "3", "--val-every", "2",
             "--optimizer", "sf-adamw", "--save", str(self.dir / "c.pt")],
            env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([line.split()[0] for line in result.stdout.splitlines()],
                         ["step=1", "step=2", "step=2", "step=3", "step=3"])
        self.assertRegex(result.stderr, r"torch_charlm: device=\w+ ")
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.pt"])


if __name__ == "__main__":
    unittest.main()
