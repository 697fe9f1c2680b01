#include "cli/run.hpp"

#include <csignal>
#include <filesystem>
#include <iostream>

#include "cli/job_loading.hpp"
#include "console/console_reporter.hpp"
#include "journal/json_lines_journal.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "process/leftover_processes.hpp"
#include "process/process_launcher.hpp"
#include "process/steady_clock.hpp"
#include "report/run_outputs_writer.hpp"
#include "search/autolrs_search.hpp"
#include "spec/input_error.hpp"
#include "storage/filesystem_checkpoint_store.hpp"

namespace autolrs::cli {

namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void record_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

/// SIGINT, SIGTERM and SIGUSR1 (Slurm's warning before preemption) stop the run cleanly: the running
/// launches end, the journal stays consistent, and the run can be resumed.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = record_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGUSR1}) sigaction(signal_number, &action, nullptr);
}

}  // namespace

CLI::App* setup_run(CLI::App& parent, RunOptions& options) {
  CLI::App* command = parent.add_subcommand("run", "Train with a learning-rate schedule found by AutoLRS");
  command->add_option("spec", options.spec_path, "Job spec (JSON)")->required();
  command->add_option("--run-dir", options.run_dir, "Run directory (overrides the spec's run_dir)");
  command->add_flag("--dry-run", options.dry_run, "Use the built-in training simulator as the trainer");
  command->add_flag("--resume", options.resume, "Continue the run recorded in the run directory's journal");
  return command;
}

int run_run(const RunOptions& options) {
  const LoadedJob loaded = load_job(options.spec_path, options.run_dir, options.dry_run);
  const spec::JobSpec& job = loaded.job;
  prepare_run_dir(job, options.resume);

  if (options.resume) {
    // Processes the previous autolrs's launches left running (it was SIGKILLed, and PR_SET_PDEATHSIG
    // reaches only a trainer, not its workers) must not write into the run while it goes on.
    process::kill_processes_with_env(orchestrator::run_dir_env_var, job.run_dir);
  }
  g_stop_signal.store(0);
  install_stop_handlers();
  process::ProcessLauncher launcher(&g_stop_signal);
  journal::JsonLinesJournal journal(job.run_dir);
  storage::FilesystemCheckpointStore checkpoints(job.run_dir);
  process::SteadyClock clock;
  report::RunOutputsWriter outputs(job.run_dir);
  console::ConsoleReporter console(std::cout);
  orchestrator::RunOrchestrator orchestrator(
      job, loaded.identity,
      orchestrator::RunContext{launcher, journal, checkpoints, clock, {&outputs, &console}, &g_stop_signal});
  search::AutoLrsSearch planner(job);
  const std::string resume_command = "autolrs run " + options.spec_path + (options.dry_run ? " --dry-run" : "") +
                                     (options.run_dir.empty() ? "" : " --run-dir " + options.run_dir) + " --resume";
  switch (orchestrator.run(planner, options.resume)) {
    case orchestrator::RunStatus::completed: return 0;
    case orchestrator::RunStatus::failed:
      std::cerr << "autolrs: the run failed (see above); once the cause is fixed, continue with: " << resume_command
                << "\n";
      return 1;
    case orchestrator::RunStatus::interrupted:
    case orchestrator::RunStatus::running: break;
  }
  std::cerr << "autolrs: interrupted; continue with: " << resume_command << "\n";
  return 128 + (g_stop_signal.load() != 0 ? g_stop_signal.load() : SIGTERM);
}

}  // namespace autolrs::cli
