#include "cli/validate.hpp"

#include "session/job_loading.hpp"
#include "session/run_session.hpp"
#include "session/validate.hpp"

namespace autolrs::cli {

CLI::App* setup_validate(CLI::App& parent, ValidateOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "validate", "Check a job spec and its trainer, and print the first launch's command; runs nothing without --launch");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (overrides the spec's run_dir)");
  command->add_flag("--dry-run", options.dry_run, "Check the job as `autolrs run --dry-run` would run it");
  command->add_flag("--launch", options.launch,
                    "Then run three short launches (two LRs from the start, one continuing a checkpoint) and check that "
                    "the trainer uses {lr}, loads its checkpoint and prints what the patterns match");
  return command;
}

int run_validate(const ValidateOptions& options, std::ostream& out) {
  const spec::JobSpec job = session::load_job(options.spec_path, options.run_dir, options.dry_run);
  session::validate_job(job, out);
  if (!options.launch) return 0;
  out << "\n";
  return session::run_trainer_check(job, options.dry_run, out);
}

}  // namespace autolrs::cli
