#include "cli/planned_run.hpp"

#include <atomic>
#include <csignal>
#include <iostream>

#include "console/console_reporter.hpp"
#include "journal/json_lines_journal.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "process/process_launcher.hpp"
#include "process/steady_clock.hpp"
#include "report/run_outputs_writer.hpp"
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

int run_planned(const LoadedJob& loaded, search::LaunchPlanner& planner, bool resume, const std::string& command) {
  const spec::JobSpec& job = loaded.job;
  prepare_run_dir(job, resume);

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
  switch (orchestrator.run(planner, resume)) {
    case orchestrator::RunStatus::completed: return 0;
    case orchestrator::RunStatus::failed: return 1;
    case orchestrator::RunStatus::interrupted:
    case orchestrator::RunStatus::running: break;
  }
  std::cerr << "autolrs: interrupted; continue with: " << command
            << (loaded.identity.value("dry_run", false) ? " --dry-run" : "") << " --run-dir " << job.run_dir
            << " --resume\n";
  return 128 + (g_stop_signal.load() != 0 ? g_stop_signal.load() : SIGTERM);
}

}  // namespace autolrs::cli
