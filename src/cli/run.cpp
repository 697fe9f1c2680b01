#include "cli/run.hpp"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include "cli/job_loading.hpp"
#include "console/console_mode.hpp"
#include "journal/json_lines_journal.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "process/process_launcher.hpp"
#include "process/steady_clock.hpp"
#include "report/html_report_writer.hpp"
#include "report/run_outputs_writer.hpp"
#include "search/autolrs_search.hpp"
#include "search/stage_plan.hpp"
#include "spec/input_error.hpp"
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
  const LoadedJob loaded = load_job(options.spec_path, options.run_dir, options.dry_run);
  const spec::JobSpec& job = loaded.job;
  prepare_run_dir(job, options.resume);

  install_stop_handlers();
  process::ProcessLauncher launcher(&g_stop_signal);
  journal::JsonLinesJournal journal(job.run_dir);
  storage::FilesystemCheckpointStore checkpoints(job.run_dir);
  process::SteadyClock clock;
  report::RunOutputsWriter outputs(job.run_dir);
  report::HtmlReportWriter html_report(job.run_dir, clock);
  const std::unique_ptr<orchestrator::RunObserver> console = console::make_console_reporter(
      console::choose_console_mode(options.quiet, options.log_format, ::isatty(STDOUT_FILENO) == 1), std::cout, clock,
      search::planned_compute_steps(job));
  orchestrator::RunOrchestrator orchestrator(
      job, loaded.identity,
      orchestrator::RunContext{launcher, journal, checkpoints, clock, {&outputs, &html_report, console.get()}, &g_stop_signal});
  search::AutoLrsSearch planner(job);
  switch (orchestrator.run(planner, options.resume)) {
    case orchestrator::RunStatus::completed: return 0;
    case orchestrator::RunStatus::failed: return 1;
    case orchestrator::RunStatus::interrupted:
    case orchestrator::RunStatus::running: break;
  }
  std::cerr << "autolrs: interrupted; continue with: autolrs run " << options.spec_path
            << (options.run_dir.empty() ? "" : " --run-dir " + options.run_dir) << (options.dry_run ? " --dry-run" : "")
            << " --resume\n";
  return 128 + (g_stop_signal.load() != 0 ? g_stop_signal.load() : SIGTERM);
}

}  // namespace autolrs::cli
