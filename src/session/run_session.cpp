#include "session/run_session.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <system_error>

#include "console/console_mode.hpp"
#include "console/console_reporter.hpp"
#include "console/range_test_lines.hpp"
#include "orchestrator/journal_replay.hpp"
#include "orchestrator/launch_command.hpp"
#include "orchestrator/resume_changes.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "process/leftover_processes.hpp"
#include "report/html_report_writer.hpp"
#include "report/range_test_plot.hpp"
#include "search/stage_plan.hpp"
#include "session/run_dir.hpp"
#include "session/validate.hpp"
#include "spec/input_error.hpp"
#include "spec/command_template.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::session {

namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void record_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

/// The lock of a prepared run dir, after ending what a killed predecessor left running there.
storage::RunDirLock prepared(const spec::JobSpec& job, bool resume) {
  storage::RunDirLock lock = prepare_run_dir(job.run_dir, resume);
  if (resume) process::kill_processes_with_env(orchestrator::run_dir_env_var, job.run_dir);
  return lock;
}

/// 128 + the signal that interrupted the run (SIGTERM when none is recorded).
int interrupted_status(const RunSession& session) {
  return 128 + (session.stop_signal() != 0 ? session.stop_signal() : SIGTERM);
}

}  // namespace

std::atomic<int>& install_stop_handlers() {
  g_stop_signal.store(0);
  struct sigaction action {};
  action.sa_handler = record_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGUSR1, SIGHUP}) sigaction(signal_number, &action, nullptr);
  // A closed stdout (`autolrs run ... | head`) must not kill the run: the write fails instead.
  ::signal(SIGPIPE, SIG_IGN);
  return g_stop_signal;
}

RunSession::RunSession(spec::JobSpec job, const RunIdentity& identity, bool resume)
    : m_job(std::move(job)),
      m_identity(identity_json(identity)),
      m_method(describe_method(identity.kind, m_job)),
      m_resume(resume),
      m_lock(prepared(m_job, resume)),
      m_stop_signal(install_stop_handlers()),
      m_launcher(&m_stop_signal),
      m_journal(m_job.run_dir),
      m_checkpoints(m_job.run_dir, orchestrator::is_checkpoint_name),
      m_outputs(m_job.run_dir) {}

orchestrator::RunStatus RunSession::run(search::LaunchPlanner& planner, const std::vector<orchestrator::RunObserver*>& observers) {
  std::vector<orchestrator::RunObserver*> all_observers{&m_outputs};
  all_observers.insert(all_observers.end(), observers.begin(), observers.end());
  orchestrator::RunOrchestrator orchestrator(
      m_job, m_identity,
      orchestrator::RunContext{m_launcher, m_journal, m_checkpoints, m_clock, all_observers, &m_stop_signal, m_method});
  const orchestrator::RunStatus status = orchestrator.run(planner, m_resume);
  m_failure = orchestrator.failure(planner);
  return status;
}

std::vector<std::string> RunSession::trainer_changes() const {
  if (!m_resume) return {};
  const std::optional<nlohmann::json> recorded = orchestrator::recorded_identity(m_journal.read_all());
  return recorded ? orchestrator::resume_changes(*recorded, m_identity).accepted : std::vector<std::string>{};
}

void RunSession::remove_checkpoints() { m_checkpoints.remove_all_own(); }

int run_training(const spec::JobSpec& job, const RunIdentity& identity, bool resume, const std::string& command,
                 const ConsoleOptions& console_options) {
  RunSession session(job, identity, resume);
  if (std::holds_alternative<AutoLrsRun>(identity.kind)) {
    for (const std::string& warning : job_warnings(job)) std::cerr << "autolrs: warning: " << warning << "\n";
  }
  const std::vector<std::string> trainer_changes = session.trainer_changes();
  if (!trainer_changes.empty()) {
    std::cerr << "autolrs: resuming with the trainer changed (";
    for (size_t i = 0; i < trainer_changes.size(); ++i) std::cerr << (i > 0 ? ", " : "") << trainer_changes[i];
    std::cerr << "); what was decided so far stands\n";
  }
  const std::unique_ptr<search::LaunchPlanner> planner = make_planner(session.job(), identity.kind);
  report::HtmlReportWriter html_report(job.run_dir, session.clock());
  const std::unique_ptr<orchestrator::RunObserver> console = console::make_console_reporter(
      console::choose_console_mode(console_options.quiet, console_options.log_format, ::isatty(STDOUT_FILENO) == 1),
      std::cout, session.clock(), search::planned_compute_steps(job), console::stdout_columns());
  const std::string resume_command =
      command + (identity.dry_run ? " --dry-run" : "") + " --run-dir " + shell_quote(job.run_dir) + " --resume";
  orchestrator::RunStatus status = orchestrator::RunStatus::running;
  try {
    status = session.run(*planner, {&html_report, console.get()});
  } catch (const spec::InputError&) {
    throw;
  } catch (const std::exception& error) {
    // An error of autolrs itself (a full disk): the run stopped, and the launches in flight run again.
    std::cerr << "autolrs: error: " << error.what() << "\n"
              << "autolrs: the run stopped; once the cause is fixed, continue with: " << resume_command << "\n";
    return 1;
  }
  switch (status) {
    case orchestrator::RunStatus::completed: return 0;
    case orchestrator::RunStatus::failed:
      std::cerr << "autolrs: the run failed (see above); once the cause is fixed, continue with: " << resume_command << "\n"
                << "autolrs: " << orchestrator::resume_accepts << "\n";
      return 1;
    case orchestrator::RunStatus::interrupted:
    case orchestrator::RunStatus::running: break;
  }
  std::cerr << "autolrs: interrupted; continue with: " << resume_command << "\n";
  return interrupted_status(session);
}

int run_range_test(const spec::JobSpec& job, bool dry_run, const search::RangeTestPlan& plan, std::ostream& out) {
  const RangeTestRun kind{plan};
  RunSession session(job, RunIdentity{job.source, dry_run, kind}, false);
  out << "range test: " << plan.points << " LRs from " << spec::format_number(plan.lr_low) << " to "
      << spec::format_number(plan.lr_high) << ", " << plan.steps << " steps each from "
      << job.initial_checkpoint.value_or("scratch") << "; run dir " << job.run_dir << "\n";
  const std::unique_ptr<search::RangeTest> planner = make_planner(session.job(), kind);
  console::RangeTestLines lines(out);
  const orchestrator::RunStatus status = session.run(*planner, {&lines});
  // The launches' checkpoints serve nothing after the test, and may be large.
  session.remove_checkpoints();
  if (status == orchestrator::RunStatus::interrupted) {
    std::cerr << "autolrs: range test interrupted\n";
    return interrupted_status(session);
  }
  if (session.failure()) {
    std::cerr << "autolrs: " << *session.failure() << "\n";
    return 1;
  }
  const search::RangeTestAnalysis analysis = search::analyze_range_test(planner->points());
  console::print_range_test_analysis(analysis, out);
  const std::string plot = job.run_dir + "/range_test.svg";
  storage::write_file_atomically(plot, report::range_test_svg(analysis));
  out << "plot: " << plot << "\n";
  return analysis.lr_max ? 0 : 1;
}

namespace {

/// The trainer check's console: each finished launch's line and the checks' warnings, counted.
class TrainerCheckLines : public orchestrator::RunObserver {
 public:
  explicit TrainerCheckLines(std::ostream& out) : m_plain(out) {}
  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override {
    m_plain.on_launch_finished(report, state);
  }
  void on_warning(const std::string& message, const orchestrator::RunState& state) override {
    ++warnings;
    m_plain.on_warning(message, state);
  }
  int warnings = 0;

 private:
  console::ConsoleReporter m_plain;
};

}  // namespace

int run_trainer_check(const spec::JobSpec& spec_job, bool dry_run, std::ostream& out) {
  // A new folder of its own: the check never touches a run, nor another check.
  const std::filesystem::path run_dir(spec_job.run_dir);
  std::filesystem::create_directories(run_dir.parent_path());
  std::string folder = (run_dir.parent_path() / (run_dir.filename().string() + "-check.XXXXXX")).string();
  if (::mkdtemp(folder.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "cannot create a folder for the trainer check beside " + spec_job.run_dir);
  }
  spec::JobSpec job = spec_job;
  job.run_dir = folder;
  const TrainerCheckRun kind{search::default_trainer_check_plan(job)};
  const search::TrainerCheckPlan& plan = kind.plan;
  out << "trainer check: " << plan.steps << " steps at lr " << spec::format_number(plan.lr_high) << " and at lr "
      << spec::format_number(plan.lr_low) << " from " << job.initial_checkpoint.value_or("scratch") << ", then "
      << plan.steps << " at lr " << spec::format_number(plan.lr_low) << " continuing the first; in " << folder << "\n";
  TrainerCheckLines lines(out);
  std::optional<std::string> failure;
  int stop_signal = 0;
  {
    RunSession session(job, RunIdentity{job.source, dry_run, kind}, false);
    const std::unique_ptr<search::TrainerCheck> planner = make_planner(session.job(), kind);
    session.run(*planner, {&lines});
    session.remove_checkpoints();
    failure = session.failure();
    stop_signal = session.stop_signal();
  }
  if (stop_signal != 0) {
    std::cerr << "autolrs: trainer check interrupted; its logs are in " << folder << "/logs\n";
    return 128 + stop_signal;
  }
  if (failure) {
    std::cerr << "autolrs: the trainer check failed: " << *failure << "\nautolrs: its logs are in " << folder << "/logs\n";
    return 1;
  }
  std::filesystem::remove_all(folder);
  out << "trainer check passed: every launch printed losses the patterns match and wrote {save_checkpoint}; "
         "nothing suggests the trainer ignores {lr} or {load_checkpoint}"
      << (lines.warnings > 0 ? " (" + std::to_string(lines.warnings) + " warning(s) above)" : std::string()) << "\n";
  return 0;
}

}  // namespace autolrs::session
