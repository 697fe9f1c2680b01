#include "cli/baseline.hpp"

#include <cmath>

#include "search/fixed_schedule.hpp"
#include "session/job_loading.hpp"
#include "session/run_session.hpp"
#include "session/validate.hpp"
#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

namespace {

search::ScheduleSpec schedule_of(const BaselineOptions& options) {
  search::ScheduleSpec schedule;
  schedule.shape = *search::schedule_shape_from_name(options.schedule);  // CLI11 checked the name
  if (!std::isfinite(options.peak_lr) || options.peak_lr <= 0) {
    throw spec::InputError("--lr", "must be finite and > 0, got " + spec::format_number(options.peak_lr));
  }
  schedule.peak_lr = options.peak_lr;
  if (options.segments) {
    if (search::is_piecewise_constant(schedule.shape)) {
      throw spec::InputError("--segments", "applies to cosine, linear, quadratic and wsd schedules only (" + options.schedule +
                                               " runs as its own constant pieces)");
    }
    if (*options.segments < 1) throw spec::InputError("--segments", "must be >= 1, got " + std::to_string(*options.segments));
    schedule.segments = *options.segments;
  }
  if (options.cooldown) {
    if (schedule.shape != search::ScheduleShape::wsd) throw spec::InputError("--cooldown", "applies to --schedule wsd only");
    if (!(*options.cooldown > 0 && *options.cooldown <= 1)) {
      throw spec::InputError("--cooldown", "must be in (0, 1], got " + spec::format_number(*options.cooldown));
    }
    schedule.cooldown_fraction = *options.cooldown;
  }
  return schedule;
}

}  // namespace

CLI::App* setup_baseline(CLI::App& parent, BaselineOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "baseline", "Train with a fixed learning-rate schedule, launched like `run` (to compare against AutoLRS)");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--schedule", options.schedule, "Schedule shape")
      ->required()
      ->check(CLI::IsMember({"constant", "cosine", "step", "linear", "wsd", "quadratic"}));
  command->add_option("--lr", options.peak_lr, "Peak learning rate (the constant one for --schedule constant)")->required();
  command->add_option_function<int>(
      "--segments", [&options](const int& segments) { options.segments = segments; },
      "Launches a cosine, linear or quadratic schedule, or a wsd cooldown, is cut into (default " +
          std::to_string(search::default_schedule_segments) + ")");
  command->add_option_function<double>(
      "--cooldown", [&options](const double& fraction) { options.cooldown = fraction; },
      "Fraction of the steps a wsd schedule cools down over (default " +
          spec::format_number(search::default_cooldown_fraction) + ")");
  command->add_option("--run-dir", options.run_dir,
                      "Run directory (default: the spec's run_dir + \"-baseline-<schedule>-lr<lr>\")");
  command->add_flag("--dry-run", options.dry_run, "Use the built-in training simulator as the trainer");
  command->add_flag("--resume", options.resume, "Continue the run recorded in the run directory's journal");
  return command;
}

int run_baseline(const BaselineOptions& options) {
  const search::ScheduleSpec schedule = schedule_of(options);
  spec::JobSpec job = session::load_job(options.spec_path, options.run_dir, options.dry_run);
  // Beside the search's run, not in it: a baseline's own folder per schedule and LR.
  if (options.run_dir.empty()) job.run_dir += "-baseline-" + options.schedule + "-lr" + spec::format_number(schedule.peak_lr);
  std::string command = "autolrs baseline " + session::shell_quote(options.spec_path) + " --schedule " + session::shell_quote(options.schedule) + " --lr " +
                        spec::format_number(schedule.peak_lr);
  if (options.segments) command += " --segments " + std::to_string(*options.segments);
  if (options.cooldown) command += " --cooldown " + spec::format_number(*options.cooldown);
  return session::run_training(job, session::RunIdentity{job.source, options.dry_run, session::BaselineRun{schedule}},
                               options.resume, command);
}

}  // namespace autolrs::cli
