#include "cli/planned_run.hpp"

#include <atomic>
#include <csignal>
#include <iostream>

#include <unistd.h>

#include <memory>

#include "console/console_mode.hpp"
#include "report/html_report_writer.hpp"
#include "search/stage_plan.hpp"
#include "journal/json_lines_journal.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "process/leftover_processes.hpp"
#include "process/process_launcher.hpp"
#include "process/steady_clock.hpp"
#include "report/run_outputs_writer.hpp"
#include "storage/filesystem_checkpoint_store.hpp"

namespace autolrs::cli {

namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void record_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

}  // namespace

std::atomic<int>& install_stop_handlers() {
  g_stop_signal.store(0);
  struct sigaction action {};
  action.sa_handler = record_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGUSR1}) sigaction(signal_number, &action, nullptr);
  return g_stop_signal;
}

int run_planned(const LoadedJob& loaded, search::LaunchPlanner& planner, bool resume, const std::string& command,
                const ConsoleOptions& console_options) {
  const spec::JobSpec& job = loaded.job;
  const storage::RunDirLock run_dir_lock = prepare_run_dir(job, resume);
  if (resume) {
    // Processes the previous autolrs's launches left running (it was SIGKILLed, and PR_SET_PDEATHSIG
    // reaches only a trainer, not its workers) must not write into the run while it goes on.
    process::kill_processes_with_env(orchestrator::run_dir_env_var, job.run_dir);
  }

  install_stop_handlers();
  process::ProcessLauncher launcher(&g_stop_signal);
  journal::JsonLinesJournal journal(job.run_dir);
  storage::FilesystemCheckpointStore checkpoints(job.run_dir);
  process::SteadyClock clock;
  report::RunOutputsWriter outputs(job.run_dir);
  report::HtmlReportWriter html_report(job.run_dir, clock);
  const std::unique_ptr<orchestrator::RunObserver> console = console::make_console_reporter(
      console::choose_console_mode(console_options.quiet, console_options.log_format, ::isatty(STDOUT_FILENO) == 1),
      std::cout, clock, search::planned_compute_steps(job));
  orchestrator::RunOrchestrator orchestrator(
      job, loaded.identity,
      orchestrator::RunContext{launcher, journal, checkpoints, clock, {&outputs, &html_report, console.get()}, &g_stop_signal});
  const std::string resume_command = command + (loaded.identity.value("dry_run", false) ? " --dry-run" : "") +
                                     " --run-dir " + job.run_dir + " --resume";
  switch (orchestrator.run(planner, resume)) {
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
