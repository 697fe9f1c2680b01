#include "cli/range_test.hpp"

#include <iostream>

#include "search/range_test.hpp"
#include "session/job_loading.hpp"
#include "session/run_session.hpp"

namespace autolrs::cli {

CLI::App* setup_range_test(CLI::App& parent, RangeTestOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "range-test", "Run the LR range test (short runs at log-spaced LRs) and suggest search.lr_min and lr_max");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (default: the spec's run_dir + \"-range-test\")");
  command->add_flag("--dry-run", options.dry_run, "Use the built-in training simulator as the trainer");
  command->add_option("--points", options.points, "LRs to test (default 25)");
  command->add_option("--steps", options.steps, "Steps per LR (default: the first stage's probe length)");
  command->add_option("--lr-min", options.lr_min, "Lowest LR tested (default: search.lr_min / 100)");
  command->add_option("--lr-max", options.lr_max, "Highest LR tested (default: search.lr_max * 100)");
  return command;
}

int run_range_test(const RangeTestOptions& options) {
  spec::JobSpec job = session::load_job(options.spec_path, options.run_dir, options.dry_run);
  if (options.run_dir.empty()) job.run_dir += "-range-test";
  search::RangeTestPlan plan = search::default_range_test_plan(job);
  if (options.points != 0) plan.points = options.points;
  if (options.steps != 0) plan.steps = options.steps;
  if (options.lr_min != 0) plan.lr_low = options.lr_min;
  if (options.lr_max != 0) plan.lr_high = options.lr_max;
  search::check_range_test_plan(plan);
  return session::run_range_test(job, options.dry_run, plan, std::cout);
}

}  // namespace autolrs::cli
