#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "simulator/fault_plan.hpp"

namespace autolrs::cli {

struct SimulateOptions {
  double lr = 0;                      ///< constant learning rate of this launch, finite and >= 0
  std::int64_t steps = 0;             ///< steps to take, >= 0
  std::string save_path;              ///< where the checkpoint goes (written atomically)
  std::string load_path;              ///< checkpoint to resume; empty: the task's initial state
  std::optional<std::uint64_t> seed;  ///< default 0, or the checkpoint's when resuming
  std::string task;                   ///< preset name; empty: the default, or the checkpoint's
  std::int64_t val_every = 100;       ///< a val_loss line every this many global steps, >= 1
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
