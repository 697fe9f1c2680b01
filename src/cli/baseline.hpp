#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct BaselineOptions {
  std::string spec_path;
  std::string schedule;           ///< constant, cosine, step, linear, wsd, quadratic or cubic; or empty with schedule_file
  std::optional<double> peak_lr;  ///< > 0; required with `schedule`
  std::string schedule_file;      ///< a run's schedule.csv to train again, instead of `schedule`
  std::optional<int> segments;  ///< cosine, linear, quadratic, cubic and wsd only, ≥ 1; default search::default_schedule_segments
  std::optional<double> cooldown;  ///< wsd only, in (0, 1]; default search::default_cooldown_fraction
  std::string run_dir;          ///< overrides the spec's run_dir when not empty
  bool dry_run = false;
  bool resume = false;
};

/// `autolrs baseline job.json (--schedule SHAPE --lr PEAK [--segments K] [--cooldown F] |
/// --schedule-file RUN/schedule.csv) [--run-dir DIR] [--dry-run] [--resume]`: trains the job's trainer
/// with a fixed schedule (search::FixedSchedule), a shape or a run's found schedule replayed, through
/// the same launches and outputs as `autolrs run`.
CLI::App* setup_baseline(CLI::App& parent, BaselineOptions& options);

/// Throws spec::InputError for a missing or bad --schedule, --lr or --segments, or a bad schedule file
/// (before anything is created); the journal's identity holds the schedule (a file's launches, not
/// its name), so a resume with other baseline options or another schedule is refused.
int run_baseline(const BaselineOptions& options);

}  // namespace autolrs::cli
