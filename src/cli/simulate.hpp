#pragma once

#include <CLI/CLI.hpp>

#include "simulator/training_run.hpp"

namespace autolrs::cli {

/// The options of one simulated launch (see simulator::TrainingOptions).
using SimulateOptions = simulator::TrainingOptions;

/// `autolrs simulate --lr X --steps N --save PATH [--load PATH] [--seed S] [--task NAME] ...`: the
/// built-in training simulator (noisy quadratic model), a trainer following the autolrs protocol.
/// Options and output are documented in docs/simulator.md.
CLI::App* setup_simulate(CLI::App& parent, SimulateOptions& options);

/// Runs the simulator as this process (session::simulate), printing to stdout. Returns 0 after saving
/// the checkpoint (also when the run diverged: its losses print as nan/inf), 3 for an injected crash;
/// never returns for an injected hang. Throws spec::InputError for invalid options, an unreadable
/// checkpoint or one saved under a different task or seed, and std::runtime_error when the
/// checkpoint cannot be written.
int run_simulate(const SimulateOptions& options);

}  // namespace autolrs::cli
