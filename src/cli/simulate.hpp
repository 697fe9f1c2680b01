#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "simulator/fault_plan.hpp"

namespace autolrs::cli {

/// The default size of the simulator's validation set: the NQM's per-example losses spread far more
/// than a real network's (standard deviation sqrt(2cL/n) against L), so 10^6 of its examples give the
/// relative error a 10,000-example set gives a real classifier near the end of training: about 3% at
/// the `quadratic` task's final loss, 0.1-1% earlier in training.
inline constexpr std::int64_t default_val_examples = 1'000'000;

struct SimulateOptions {
  double lr = 0;                      ///< learning rate of this launch's first step, finite and >= 0
  /// With a value, the LR ramps linearly: step k (0-based) of N runs at lr + (lr_end − lr)·k/N.
  std::optional<double> lr_end;
  std::int64_t steps = 0;             ///< steps to take, >= 0
  std::string save_path;              ///< where the checkpoint goes (written atomically)
  std::string load_path;              ///< checkpoint to resume; empty: the task's initial state
  std::optional<std::uint64_t> seed;  ///< default 0, or the checkpoint's when resuming
  std::string task;                   ///< preset name; empty: the default, or the checkpoint's
  std::int64_t val_every = 100;       ///< a val_loss line every this many global steps, >= 1
  /// Examples of the finite validation set val_loss is measured on (see simulator::ValidationSet);
  /// 0: the population loss L(θ), without sampling error.
  std::int64_t val_examples = default_val_examples;
  double step_ms = 0;                 ///< sleep after each step, >= 0
  double startup_ms = 0;              ///< sleep before the first step, >= 0
  bool ignore_sigterm = false;        ///< SIGTERM is ignored from the start
  simulator::FaultPlan faults;
};

/// `autolrs simulate --lr X --steps N --save PATH [--load PATH] [--seed S] [--task NAME] ...`: the
/// built-in training simulator (noisy quadratic model), a trainer following the autolrs protocol.
/// Options and output are documented in docs/simulator.md.
CLI::App* setup_simulate(CLI::App& parent, SimulateOptions& options);

/// Runs the simulator, printing to stdout. Returns 0 after saving the checkpoint (also when the run
/// diverged: its losses print as nan/inf), 3 for an injected crash; never returns for an injected
/// hang. Throws spec::InputError for invalid options, an unreadable checkpoint or one saved under a
/// different task or seed, and std::runtime_error when the checkpoint cannot be written.
int run_simulate(const SimulateOptions& options);

}  // namespace autolrs::cli
