#include "cli/report.hpp"

#include <iostream>

#include "orchestrator/journal.hpp"
#include "session/run_rebuild.hpp"

namespace autolrs::cli {

CLI::App* setup_report(CLI::App& parent, ReportOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "report", "Write report.html for a run (finished or still running); with --compare, compare.html of several runs");
  command->add_option("run_dir", options.run_dir, std::string("Run directory (holds ") + orchestrator::journal_file_name + ")")
      ->required();
  command->add_option("--compare", options.compare_run_dirs,
                      "Other run directories (baselines, other searches) to compare with run_dir: writes "
                      "run_dir/compare.html with their LR schedules and losses overlaid, over model steps or "
                      "compute steps (probes included), and a table of their final losses and costs");
  command->footer("Example: autolrs report runs/resnet50 --compare runs/resnet50-baseline-cosine-lr0.1\n");
  return command;
}

int run_report(const ReportOptions& options) {
  session::write_report(options.run_dir, std::cout);
  if (!options.compare_run_dirs.empty()) {
    std::vector<std::string> run_dirs{options.run_dir};
    run_dirs.insert(run_dirs.end(), options.compare_run_dirs.begin(), options.compare_run_dirs.end());
    session::write_comparison(run_dirs, std::cout);
  }
  return 0;
}

}  // namespace autolrs::cli
