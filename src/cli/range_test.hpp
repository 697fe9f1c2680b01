#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct RangeTestOptions {
  std::string spec_path;
  std::string run_dir;  ///< default: the spec's run_dir + "-range-test"
  bool dry_run = false;
  int points = 0;       ///< 0: search::default_range_test_plan's
  long steps = 0;       ///< 0: the default
  double lr_min = 0;    ///< 0: the default
  double lr_max = 0;    ///< 0: the default
};

/// `autolrs range-test job.json [--dry-run] [--run-dir D] [--points N] [--steps S] [--lr-min A] [--lr-max B]`.
CLI::App* setup_range_test(CLI::App& parent, RangeTestOptions& options);

/// Runs the LR range test with the job's trainer (search::RangeTest under the orchestrator, in the
/// run-dir layout of `autolrs run`), prints a line per LR, the analysis, the suggested bounds and a
/// spec fragment, and writes range_test.svg to the run dir; the launches' checkpoints are removed.
/// Returns 0 with a suggestion, 1 without one (or when every launch failed), 128+signal when
/// interrupted; throws spec::InputError on bad input (exit 2).
int run_range_test(const RangeTestOptions& options);

}  // namespace autolrs::cli
