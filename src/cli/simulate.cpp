#include "cli/simulate.hpp"

#include "session/simulate.hpp"
#include "simulator/task.hpp"

namespace autolrs::cli {

CLI::App* setup_simulate(CLI::App& parent, SimulateOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "simulate", "Built-in training simulator (noisy quadratic model); see docs/simulator.md");
  command->add_option("--lr", options.lr, "Learning rate (of the first step when --lr-end is given)")->required();
  command->add_option_function<double>(
      "--lr-end", [&options](const double& lr_end) { options.lr_end = lr_end; },
      "Ramp the LR linearly: step k of N runs at lr + (lr_end - lr)*k/N");
  command->add_option("--steps", options.steps, "Steps to take")->required();
  command->add_option("--save", options.save_path, "Checkpoint to write at the end")->required();
  command->add_option("--load", options.load_path, "Checkpoint to resume from");
  command->add_option_function<std::uint64_t>(
      "--seed", [&options](const std::uint64_t& seed) { options.seed = seed; },
      "Minibatch noise seed (default 0; the checkpoint's when resuming)");
  std::string task_names;
  for (const std::string& name : simulator::preset_names()) task_names += (task_names.empty() ? "" : ", ") + name;
  command->add_option("--task", options.task,
                      "Preset, one of " + task_names + " (default " + simulator::default_task_name() +
                          "; the checkpoint's when resuming)");
  command->add_option("--val-examples", options.val_examples,
                      "Examples in the validation set val_loss is measured on (0: the exact population loss)")
      ->capture_default_str();
  command->add_option("--val-every", options.val_every, "Print val_loss every this many global steps")
      ->capture_default_str();
  command->add_option("--step-ms", options.step_ms, "Sleep this long after each step");
  command->add_option("--startup-ms", options.startup_ms, "Sleep this long before the first step");
  command->add_option("--crash-at-step", options.faults.crash_at_step,
                      "Exit with status 3 instead of taking this global step");
  command->add_option("--hang-at-step", options.faults.hang_at_step,
                      "Stop printing and sleep forever instead of taking this global step");
  command->add_flag("--ignore-sigterm", options.ignore_sigterm, "Ignore SIGTERM");
  command->add_option("--nan-from-step", options.faults.nan_from_step,
                      "Parameters turn NaN at this global step");
  command->add_flag("--skip-checkpoint", options.faults.skip_checkpoint, "Exit 0 without writing the checkpoint");
  command->add_flag("--truncate-checkpoint", options.faults.truncate_checkpoint,
                    "Write only the first half of the checkpoint");
  command->add_flag("--junk-lines", options.faults.junk_lines,
                    "Interleave binary junk and carriage-return progress bars with the loss lines");
  command->add_option("--long-line-bytes", options.faults.long_line_bytes,
                      "Print one line of this many bytes at start");
  command->add_option("--faults-lr-above", options.faults.faults_lr_above,
                      "Inject the faults above only when the launch's highest LR exceeds this (0: always)");
  return command;
}

int run_simulate(const SimulateOptions& options) { return session::simulate(options); }

}  // namespace autolrs::cli
