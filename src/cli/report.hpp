#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct ReportOptions {
  std::string run_dir;
  std::vector<std::string> compare_run_dirs;  ///< --compare: the runs shown beside run_dir in compare.html
};

/// `autolrs report RUN_DIR [--compare RUN_DIR...]`.
CLI::App* setup_report(CLI::App& parent, ReportOptions& options);
/// Writes `<run_dir>/report.html` for the run recorded there (finished or still running; an AutoLRS
/// run, a baseline or a range test) and prints its path (session::write_report); with --compare,
/// then also `<run_dir>/compare.html` of run_dir and the compared runs (session::write_comparison).
/// Returns 0; throws spec::InputError (exit 2) when a folder holds no journal or is given twice.
int run_report(const ReportOptions& options);

}  // namespace autolrs::cli
