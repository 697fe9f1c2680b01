#include "cli/report.hpp"

#include <iostream>

#include "orchestrator/journal.hpp"
#include "session/run_rebuild.hpp"

namespace autolrs::cli {

CLI::App* setup_report(CLI::App& parent, ReportOptions& options) {
  CLI::App* command = parent.add_subcommand("report", "Write report.html for a run (finished or still running)");
  command->add_option("run_dir", options.run_dir, std::string("Run directory (holds ") + orchestrator::journal_file_name + ")")
      ->required();
  return command;
}

int run_report(const ReportOptions& options) {
  session::write_report(options.run_dir, std::cout);
  return 0;
}

}  // namespace autolrs::cli
