#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct BaselineOptions {
  std::string spec_path;
  std::string schedule;         ///< constant, cosine, step, linear or wsd
  double peak_lr = 0;           ///< > 0
  std::optional<int> segments;  ///< cosine, linear, quadratic and wsd only, ≥ 1; default search::default_schedule_segments
  std::optional<double> cooldown;  ///< wsd only, in (0, 1]; default search::default_cooldown_fraction
  std::string run_dir;          ///< overrides the spec's run_dir when not empty
  bool dry_run = false;
  bool resume = false;
};

/// `autolrs baseline job.json --schedule constant|cosine|step|linear --lr PEAK [--segments K]
/// [--run-dir DIR] [--dry-run] [--resume]`: trains the job's trainer with a fixed schedule
/// (search::FixedSchedule) through the same launches and outputs as `autolrs run`.
CLI::App* setup_baseline(CLI::App& parent, BaselineOptions& options);

/// Throws spec::InputError for a bad --lr or --segments (before anything is created); the journal's
/// identity holds the schedule, so a resume with other baseline options is refused.
int run_baseline(const BaselineOptions& options);

}  // namespace autolrs::cli
