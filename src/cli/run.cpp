#include "cli/run.hpp"

#include "session/job_loading.hpp"
#include "session/run_session.hpp"
#include "session/validate.hpp"

namespace autolrs::cli {

CLI::App* setup_run(CLI::App& parent, RunOptions& options) {
  CLI::App* command = parent.add_subcommand("run", "Train with a learning-rate schedule found by AutoLRS");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (overrides the spec's run_dir)");
  command->add_flag("--dry-run", options.dry_run, "Use the built-in training simulator as the trainer");
  command->add_flag("--resume", options.resume, "Continue the run recorded in the run directory's journal");
  CLI::Option* quiet = command->add_flag("--quiet,-q", options.quiet, "Print only errors and the final result");
  command->add_option("--log-format", options.log_format, "text (a live status line on a terminal) or json (one event per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->excludes(quiet);
  return command;
}

int run_run(const RunOptions& options) {
  const spec::JobSpec job = session::load_job(options.spec_path, options.run_dir, options.dry_run);
  return session::run_training(job, session::RunIdentity{job.source, options.dry_run, session::AutoLrsRun{}}, options.resume,
                               "autolrs run " + session::shell_quote(options.spec_path), session::ConsoleOptions{options.quiet, options.log_format});
}

}  // namespace autolrs::cli
