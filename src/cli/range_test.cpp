#include "cli/range_test.hpp"

#include <csignal>
#include <filesystem>
#include <iostream>

#include "cli/job_loading.hpp"
#include "cli/planned_run.hpp"
#include "journal/json_lines_journal.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "process/process_launcher.hpp"
#include "process/steady_clock.hpp"
#include "report/range_test_plot.hpp"
#include "report/run_outputs_writer.hpp"
#include "search/range_test.hpp"
#include "spec/command_template.hpp"
#include "storage/atomic_file.hpp"
#include "storage/filesystem_checkpoint_store.hpp"

namespace autolrs::cli {

namespace {

/// One line per finished launch: "[lr 3/25] lr=1.000e-05  loss 2.303 -> 2.297  (1.2 s)".
class RangeTestLines : public orchestrator::RunObserver {
 public:
  RangeTestLines(std::ostream& out, int points) : m_out(out), m_points(points) {}

  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState&) override {
    const search::LaunchOutcome& outcome = report.outcome;
    char text[160];
    std::snprintf(text, sizeof text, "[lr %d/%d] lr=%.3e", report.request.probe + 1, m_points, report.request.lr);
    m_out << text;
    if (!outcome.train.empty()) {
      std::snprintf(text, sizeof text, "  loss %.4g -> %.4g", outcome.train.front().loss, outcome.train.back().loss);
      m_out << text;
    }
    if (outcome.status != search::OutcomeStatus::succeeded) m_out << "  " << search::to_string(outcome.status) << ": " << outcome.reason;
    std::snprintf(text, sizeof text, "  (%.1f s)\n", report.wall_s);
    m_out << text << std::flush;
  }

 private:
  std::ostream& m_out;
  int m_points;
};

void print_analysis(const search::RangeTestAnalysis& analysis, std::ostream& out) {
  out << "\n          lr  final loss\n";
  for (const search::RangeTestRow& row : analysis.rows) {
    char text[96];
    if (row.final_loss) {
      std::snprintf(text, sizeof text, "  %10.3e  %10.4g%s\n", row.lr, *row.final_loss,
                    analysis.best_lr && row.lr == *analysis.best_lr ? "  best" : "");
    } else {
      std::snprintf(text, sizeof text, "  %10.3e  %10s\n", row.lr, search::to_string(row.status));
    }
    out << text;
  }
  out << "\n" << analysis.explanation << "\n";
  if (!analysis.lr_min || !analysis.lr_max) return;
  out << "suggested: lr_min = " << spec::format_number(*analysis.lr_min) << ", lr_max = " << spec::format_number(*analysis.lr_max)
      << "\npaste into the spec:\n  \"search\": {\"lr_min\": " << spec::format_number(*analysis.lr_min)
      << ", \"lr_max\": " << spec::format_number(*analysis.lr_max) << "}\n";
}

}  // namespace

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
  LoadedJob loaded = load_job(options.spec_path, options.run_dir, options.dry_run);
  spec::JobSpec& job = loaded.job;
  if (options.run_dir.empty()) job.run_dir += "-range-test";
  search::RangeTestPlan plan = search::default_range_test_plan(job);
  if (options.points != 0) plan.points = options.points;
  if (options.steps != 0) plan.steps = options.steps;
  if (options.lr_min != 0) plan.lr_low = options.lr_min;
  if (options.lr_max != 0) plan.lr_high = options.lr_max;
  search::check_range_test_plan(plan);
  const storage::RunDirLock run_dir_lock = prepare_run_dir(job, false);
  loaded.identity["range_test"] = {{"lr_min", plan.lr_low}, {"lr_max", plan.lr_high}, {"points", plan.points}, {"steps", plan.steps}};

  std::cout << "range test: " << plan.points << " LRs from " << spec::format_number(plan.lr_low) << " to "
            << spec::format_number(plan.lr_high) << ", " << plan.steps << " steps each from "
            << job.initial_checkpoint.value_or("scratch") << "; run dir " << job.run_dir << "\n";
  std::atomic<int>& stop_signal = install_stop_handlers();
  process::ProcessLauncher launcher(&stop_signal);
  journal::JsonLinesJournal journal(job.run_dir);
  storage::FilesystemCheckpointStore checkpoints(job.run_dir);
  process::SteadyClock clock;
  report::RunOutputsWriter outputs(job.run_dir);
  RangeTestLines lines(std::cout, plan.points);
  orchestrator::RunOrchestrator orchestrator(
      job, loaded.identity, orchestrator::RunContext{launcher, journal, checkpoints, clock, {&outputs, &lines}, &stop_signal});
  search::RangeTest planner(plan);
  const orchestrator::RunStatus status = orchestrator.run(planner, false);
  // The launches' checkpoints serve nothing after the test, and may be large.
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(checkpoints.root())) {
    checkpoints.remove(entry.path().string());
  }
  if (status == orchestrator::RunStatus::interrupted) {
    std::cerr << "autolrs: range test interrupted\n";
    return 128 + (stop_signal.load() != 0 ? stop_signal.load() : SIGTERM);
  }
  if (planner.failure()) {
    std::cerr << "autolrs: " << *planner.failure() << "\n";
    return 1;
  }
  const search::RangeTestAnalysis analysis = search::analyze_range_test(planner.points());
  print_analysis(analysis, std::cout);
  const std::string plot = job.run_dir + "/range_test.svg";
  storage::write_file_atomically(plot, report::range_test_svg(analysis));
  std::cout << "plot: " << plot << "\n";
  return analysis.lr_max ? 0 : 1;
}

}  // namespace autolrs::cli
