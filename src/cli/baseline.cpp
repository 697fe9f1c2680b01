#include "cli/baseline.hpp"

#include <cmath>
#include <iostream>

#include "search/fixed_schedule.hpp"
#include "session/job_loading.hpp"
#include "session/run_session.hpp"
#include "session/validate.hpp"
#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

namespace {

search::ScheduleSpec schedule_of(const BaselineOptions& options) {
  if (options.schedule.empty()) throw spec::InputError("--schedule", "is required (a shape), or --schedule-file");
  if (!options.peak_lr) throw spec::InputError("--lr", "is required with --schedule");
  search::ScheduleSpec schedule;
  schedule.shape = *search::schedule_shape_from_name(options.schedule);  // CLI11 checked the name
  if (!std::isfinite(*options.peak_lr) || *options.peak_lr <= 0) {
    throw spec::InputError("--lr", "must be finite and > 0, got " + spec::format_number(*options.peak_lr));
  }
  schedule.peak_lr = *options.peak_lr;
  if (options.segments) {
    if (search::is_piecewise_constant(schedule.shape)) {
      throw spec::InputError("--segments", "applies to cosine, linear, quadratic, cubic and wsd schedules only (" + options.schedule +
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
  CLI::Option* shape = command->add_option("--schedule", options.schedule, "Schedule shape")
                           ->check(CLI::IsMember({"constant", "cosine", "step", "linear", "wsd", "quadratic", "cubic"}));
  CLI::Option* lr = command->add_option_function<double>(
      "--lr", [&options](const double& peak_lr) { options.peak_lr = peak_lr; },
      "Peak learning rate (the constant one for --schedule constant)");
  CLI::Option* segments = command->add_option_function<int>(
      "--segments", [&options](const int& segments) { options.segments = segments; },
      "Launches a cosine, linear, quadratic or cubic schedule, or a wsd cooldown, is cut into (default " +
          std::to_string(search::default_schedule_segments) + ")");
  CLI::Option* cooldown = command->add_option_function<double>(
      "--cooldown", [&options](const double& fraction) { options.cooldown = fraction; },
      "Fraction of the steps a wsd schedule cools down over (default " +
          spec::format_number(search::default_cooldown_fraction) + ")");
  command
      ->add_option("--schedule-file", options.schedule_file,
                   "A run's schedule.csv: train its warmup and stage launches again, instead of a --schedule shape "
                   "(scaled to the spec's total_steps when they differ)")
      ->excludes(shape)
      ->excludes(lr)
      ->excludes(segments)
      ->excludes(cooldown);
  command->add_option("--run-dir", options.run_dir,
                      "Run directory (default: the spec's run_dir + \"-baseline-<schedule>-lr<lr>\", or + "
                      "\"-replay\" with --schedule-file)");
  command->add_flag("--dry-run", options.dry_run, "Use the built-in training simulator as the trainer");
  command->add_flag("--resume", options.resume, "Continue the run recorded in the run directory's journal");
  return command;
}

namespace {

/// `autolrs baseline --schedule-file`: the file's launches, checked against the job before anything
/// is created.
int run_replay(const BaselineOptions& options) {
  spec::JobSpec job = session::load_job(options.spec_path, options.run_dir, options.dry_run);
  const session::ReplayRun replay{options.schedule_file, session::load_schedule_file(options.schedule_file)};
  const long file_steps = replay.schedule.total_steps();
  if (file_steps != job.total_steps) {
    search::scaled_to(replay.schedule, job.total_steps);  // throws when a launch would be left without steps
    std::cerr << "autolrs: warning: " << options.schedule_file << " covers " << file_steps << " steps, the spec's total_steps is "
              << job.total_steps << ": its launches are scaled to " << job.total_steps << " steps, their LRs kept\n";
  }
  if (options.run_dir.empty()) job.run_dir += "-replay";
  const std::string command = "autolrs baseline " + session::shell_quote(options.spec_path) + " --schedule-file " +
                              session::shell_quote(options.schedule_file);
  return session::run_training(job, session::RunIdentity{job.source, options.dry_run, replay}, options.resume, command);
}

}  // namespace

int run_baseline(const BaselineOptions& options) {
  if (!options.schedule_file.empty()) return run_replay(options);
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
