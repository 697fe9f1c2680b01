#include "cli/report.hpp"

#include <iostream>

#include "cli/run_rebuild.hpp"
#include "report/html_report.hpp"
#include "report/html_report_writer.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::cli {

CLI::App* setup_report(CLI::App& parent, ReportOptions& options) {
  CLI::App* command = parent.add_subcommand("report", "Write report.html for a run (finished or still running)");
  command->add_option("run_dir", options.run_dir, "Run directory (holds journal.jsonl)")->required();
  return command;
}

int run_report(const ReportOptions& options) {
  const std::unique_ptr<RebuiltRun> run = rebuild_run(options.run_dir);
  const orchestrator::RunState state = run->state();
  const std::string path = run->job.run_dir + "/" + report::HtmlReportWriter::file_name;
  storage::write_file_atomically(path, report::render_html_report(state));
  std::cout << path << " (run " << orchestrator::to_string(state.status) << ")\n";
  return 0;
}

}  // namespace autolrs::cli
