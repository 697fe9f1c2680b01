#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct OracleScheduleOptions {
  std::string task;      ///< simulator preset; empty: the default task
  long steps = 6000;     ///< ≥ 1
  int segments = 20;     ///< 1 … steps
  double lr_min = 1e-4;  ///< 0 < lr_min < lr_max
  double lr_max = 1.0;
};

/// `autolrs oracle-schedule [--task T] [--steps N] [--segments K] [--lr-min A] [--lr-max B]`: prints,
/// as one JSON object on stdout, the piecewise-constant schedule with the lowest exact expected loss
/// on a simulator task (simulator::optimize_schedule; LRs capped at the stability limit) beside the best constant LR and the best cosine
/// peak (closed forms, simulator/expected_dynamics.hpp). For the benchmark; see docs/simulator.md.
CLI::App* setup_oracle_schedule(CLI::App& parent, OracleScheduleOptions& options);

/// Throws spec::InputError for options out of range or an unknown task.
int run_oracle_schedule(const OracleScheduleOptions& options);

}  // namespace autolrs::cli
