#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct RunOptions {
  std::string spec_path;
  std::string run_dir;  ///< overrides the spec's run_dir when not empty
  bool dry_run = false;
  bool resume = false;
  bool quiet = false;               ///< print only errors and the one-line result
  std::string log_format = "text";  ///< "text" (live status on a terminal) or "json" (one event per line)
};

/// `autolrs run job.json [--dry-run] [--run-dir DIR] [--resume] [--quiet | --log-format text|json]`.
CLI::App* setup_run(CLI::App& parent, RunOptions& options);
int run_run(const RunOptions& options);

}  // namespace autolrs::cli
