"""The shipped configs/*.json that launch a PyTorch example trainer, against the trainer they launch."""
import json
import re
import unittest

from protocol_checks import REPOSITORY, TRAINERS
import autolrs_serve  # noqa: E402  (protocol_checks puts scripts/trainers on the path)
import torch_charlm  # noqa: E402
import torch_digits  # noqa: E402

TRAINER_MODULES = {"torch_digits.py": torch_digits, "torch_charlm.py": torch_charlm}
# config → (script, --optimizer, --val-every) its command must give
EXPECTED = {
    "torch-example.json": ("torch_digits.py", "sgd", 10),
    "torch-example-serve.json": ("torch_digits.py", "sgd", 10),
    "torchrun-example.json": ("torch_digits.py", "sgd", 10),
    "torch-charlm-sgd.json": ("torch_charlm.py", "sgd", 25),
    "torch-charlm-adamw.json": ("torch_charlm.py", "adamw", 25),
}
PLACEHOLDERS = {"{lr}": "0.01", "{lr_end}": "0.005", "{steps}": "20", "{save_checkpoint}": "out.pt", "{load_checkpoint}": "in.pt",
                "{seed}": "4"}
# What a serve-mode config's trainer gets on stdin for the launch PLACEHOLDERS stand for.
SERVE_COMMAND = {"id": "stage-000-probe-00", "lr": 0.01, "lr_end": 0.005, "steps": 20, "save_checkpoint": "out.pt",
                 "load_checkpoint": "in.pt", "seed": 4, "global_step": 0, "stage": 0, "probe": 0, "run_dir": "run"}


def expand(template):
    for placeholder, value in PLACEHOLDERS.items():
        template = template.replace(placeholder, value)
    return template


def trainer_of(name):
    return json.loads((REPOSITORY / "configs" / name).read_text())["trainer"]


class ShippedConfigTest(unittest.TestCase):
    def test_every_config_that_runs_an_example_trainer_on_the_cpu_is_checked_here(self):
        launching = set()
        for path in sorted((REPOSITORY / "configs").glob("*.json")):
            command = json.loads(path.read_text())["trainer"]["command"]
            if "cuda" not in command and any(part.endswith(script) for part in command for script in TRAINER_MODULES):
                launching.add(path.name)
        self.assertEqual(launching, set(EXPECTED))

    def test_the_trainer_accepts_the_argv_each_config_builds(self):
        for name, (script_name, optimizer, val_every) in EXPECTED.items():
            with self.subTest(name):
                trainer = trainer_of(name)
                command = [expand(part) for part in trainer["command"] + trainer.get("resume_args", [])]
                script = next(i for i, part in enumerate(command) if part.endswith(script_name))
                workdir = REPOSITORY / "configs" / trainer["workdir"]
                self.assertEqual((workdir / command[script]).resolve(), TRAINERS / script_name)
                args = TRAINER_MODULES[script_name].parse_args(command[script + 1:])
                if trainer.get("mode") == "serve":
                    self.assertTrue(args.serve)
                    args = autolrs_serve.launch_args(SERVE_COMMAND, args)
                self.assertEqual((args.lr, args.lr_end, args.steps, args.save, args.load, args.seed, args.optimizer,
                                  args.val_every), (0.01, 0.005, 20, "out.pt", "in.pt", 4, optimizer, val_every))
                self.assertEqual(trainer["env"], {"OMP_NUM_THREADS": "1"})

    def test_the_config_patterns_read_the_trainer_lines_apart(self):
        # Python's re and RE2 agree on these patterns (\b, \S, named groups).
        for name in EXPECTED:
            with self.subTest(name):
                trainer = trainer_of(name)
                loss = re.compile(trainer["loss"]["pattern"])
                val_loss = re.compile(trainer["val_loss"]["pattern"])
                self.assertEqual(loss.search("step=7 loss=0.25")["loss"], "0.25")
                self.assertEqual(loss.search("step=7 loss=nan")["loss"], "nan")
                self.assertIsNone(loss.search("step=7 val_loss=0.5"))
                self.assertEqual(val_loss.search("step=7 val_loss=0.5")["loss"], "0.5")
                self.assertIsNone(val_loss.search("step=7 loss=0.25"))


if __name__ == "__main__":
    unittest.main()
