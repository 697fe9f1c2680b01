#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct ReportOptions {
  std::string run_dir;
};

/// `autolrs report RUN_DIR`.
CLI::App* setup_report(CLI::App& parent, ReportOptions& options);
/// Writes `<run_dir>/report.html` for the run recorded there (finished or still running; an AutoLRS
/// run, a baseline or a range test) and prints its path (session::write_report). Returns 0; throws
/// spec::InputError (exit 2) when run_dir holds no journal.
int run_report(const ReportOptions& options);

}  // namespace autolrs::cli
