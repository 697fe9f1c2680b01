#include "cli/oracle_schedule.hpp"

#include <cmath>
#include <iostream>

#include <nlohmann/json.hpp>

#include "simulator/expected_dynamics.hpp"
#include "simulator/schedule_oracle.hpp"
#include "simulator/task.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

CLI::App* setup_oracle_schedule(CLI::App& parent, OracleScheduleOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "oracle-schedule", "Print the expected-loss-optimal piecewise-constant schedule of a simulator task (JSON)");
  command->add_option("--task", options.task, "Simulator preset (default " + simulator::default_task_name() + ")");
  command->add_option("--steps", options.steps, "Steps of the run")->capture_default_str();
  command->add_option("--segments", options.segments, "Constant-LR segments")->capture_default_str();
  command->add_option("--lr-min", options.lr_min, "Smallest LR considered")->capture_default_str();
  command->add_option("--lr-max", options.lr_max, "Largest LR considered")->capture_default_str();
  return command;
}

int run_oracle_schedule(const OracleScheduleOptions& options) {
  if (options.steps < 1) throw spec::InputError("--steps", "must be >= 1");
  if (options.segments < 1 || options.segments > options.steps) {
    throw spec::InputError("--segments", "must be between 1 and --steps");
  }
  if (!(options.lr_min > 0 && options.lr_min < options.lr_max && std::isfinite(options.lr_max))) {
    throw spec::InputError("--lr-min", "need 0 < --lr-min < --lr-max");
  }
  const simulator::Task task =
      simulator::preset_task(options.task.empty() ? simulator::default_task_name() : options.task);
  if (options.lr_min >= simulator::stability_limit_lr(task)) {
    throw spec::InputError("--lr-min", "must be below the task's stability limit " +
                                           std::to_string(simulator::stability_limit_lr(task)));
  }
  const simulator::OracleSchedule oracle =
      simulator::optimize_schedule(task, options.steps, options.segments, options.lr_min, options.lr_max);
  const simulator::LrChoice constant = simulator::best_constant_lr(task, options.steps, options.lr_min, options.lr_max);
  const simulator::LrChoice cosine = simulator::best_cosine_peak_lr(task, options.steps, options.lr_min, options.lr_max);
  nlohmann::json segments = nlohmann::json::array();
  long start_step = 0;
  for (const simulator::ScheduleSegment& segment : oracle.segments) {
    segments.push_back({{"start_step", start_step}, {"steps", segment.steps}, {"lr", segment.lr}});
    start_step += segment.steps;
  }
  const nlohmann::json output = {
      {"task", task.name},
      {"steps", options.steps},
      {"lr_min", options.lr_min},
      {"lr_max", options.lr_max},
      {"segments", std::move(segments)},
      {"expected_loss", oracle.expected_loss},
      {"sweeps", oracle.sweeps},
      {"best_constant", {{"lr", constant.lr}, {"expected_loss", constant.expected_loss}}},
      {"best_cosine", {{"peak_lr", cosine.lr}, {"expected_loss", cosine.expected_loss}}},
  };
  std::cout << output.dump() << "\n";
  return 0;
}

}  // namespace autolrs::cli
