#include "cli/validate.hpp"

#include "session/job_loading.hpp"
#include "session/validate.hpp"

namespace autolrs::cli {

CLI::App* setup_validate(CLI::App& parent, ValidateOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "validate", "Check a job spec and its trainer, and print the first launch's command; runs nothing");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (overrides the spec's run_dir)");
  command->add_flag("--dry-run", options.dry_run, "Check the job as `autolrs run --dry-run` would run it");
  return command;
}

int run_validate(const ValidateOptions& options, std::ostream& out) {
  session::validate_job(session::load_job(options.spec_path, options.run_dir, options.dry_run), out);
  return 0;
}

}  // namespace autolrs::cli
