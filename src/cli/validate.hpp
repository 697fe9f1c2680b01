#pragma once

#include <iostream>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "spec/job_spec.hpp"

namespace autolrs::cli {

struct ValidateOptions {
  std::string spec_path;
  std::string run_dir;  ///< overrides the spec's run_dir when not empty
  bool dry_run = false;
};

/// `autolrs validate job.json [--dry-run] [--run-dir DIR]`.
CLI::App* setup_validate(CLI::App& parent, ValidateOptions& options);

/// Checks everything `autolrs run` would check before launching, and creates nothing: the spec, the
/// trainer's program (and each slot's launcher program), and that the run dir exists writable or
/// could be created (its nearest existing folder is a writable directory). Prints to `out` what it
/// found and the first launch exactly as it will run: workdir, env overrides, log files and a
/// shell-quoted command line to copy. Returns 0; throws spec::InputError naming the field (exit 2).
int run_validate(const ValidateOptions& options, std::ostream& out = std::cout);

/// `argument` for a POSIX shell: unchanged when it is non-empty and has only characters no shell
/// treats specially (letters, digits, `@%+=:,./_-`), else in single quotes ('\'' for a quote).
std::string shell_quote(const std::string& argument);

/// What the run directory check found, in words ("exists", "will be created", ...). Creates
/// nothing. Throws spec::InputError on run_dir when the run could not write there.
std::string check_run_dir(const spec::JobSpec& job);

}  // namespace autolrs::cli
