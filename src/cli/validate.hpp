#pragma once

#include <iostream>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct ValidateOptions {
  std::string spec_path;
  std::string run_dir;  ///< overrides the spec's run_dir when not empty
  bool dry_run = false;
  bool launch = false;  ///< then run the trainer check (session::run_trainer_check)
};

/// `autolrs validate job.json [--dry-run] [--run-dir DIR] [--launch]`.
CLI::App* setup_validate(CLI::App& parent, ValidateOptions& options);

/// Loads the job as `autolrs run` would and checks it without creating anything
/// (session::validate_job), printing to `out`. Returns 0; throws spec::InputError naming the field (exit 2).
int run_validate(const ValidateOptions& options, std::ostream& out = std::cout);

}  // namespace autolrs::cli
