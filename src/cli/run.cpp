#include "cli/run.hpp"

#include <stdexcept>

namespace autolrs::cli {

CLI::App* setup_run(CLI::App& parent, RunOptions& options) {
  CLI::App* command = parent.add_subcommand("run", "Train with a learning-rate schedule found by AutoLRS");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (overrides the spec's run_dir)");
  command->add_flag("--dry-run", options.dry_run, "Use the built-in training simulator as the trainer");
  command->add_flag("--resume", options.resume, "Continue the run recorded in the run directory's journal");
  return command;
}

int run_run(const RunOptions&) { throw std::runtime_error("run: being wired up"); }

}  // namespace autolrs::cli
