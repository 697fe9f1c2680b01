#pragma once

#include <atomic>
#include <ostream>
#include <string>
#include <vector>

#include "journal/json_lines_journal.hpp"
#include "orchestrator/run_observer.hpp"
#include "process/process_launcher.hpp"
#include "process/steady_clock.hpp"
#include "report/run_outputs_writer.hpp"
#include "search/launch_planner.hpp"
#include "search/range_test.hpp"
#include "session/run_identity.hpp"
#include "spec/job_spec.hpp"
#include "storage/filesystem_checkpoint_store.hpp"
#include "storage/run_dir_lock.hpp"

namespace autolrs::session {

/// Makes SIGINT, SIGTERM, SIGUSR1 (Slurm's warning before preemption) and SIGHUP (a closed terminal)
/// stop a run cleanly (running launches end, the journal stays consistent) and returns the flag they
/// set, cleared. SIGPIPE is ignored: a write to a closed pipe fails, and is reported, instead.
std::atomic<int>& install_stop_handlers();

/// The composition root of every command that runs launches (run, baseline, range-test): the run
/// directory prepared and locked, and the standard edges wired once (the process launcher, the
/// JSON-lines journal, the filesystem checkpoint store, a steady clock, and summary.json,
/// schedule.csv and losses.csv kept current). Each command adds its console and runs its planner.
class RunSession {
 public:
  /// Prepares and locks `job.run_dir` (prepare_run_dir); on a resume, first ends the processes a
  /// killed predecessor's launches left running (they hold AUTOLRS_RUN_DIR=<run dir>, and
  /// PR_SET_PDEATHSIG reaches only a trainer, not its workers); installs the stop handlers.
  /// Throws spec::InputError for an unusable run directory.
  RunSession(spec::JobSpec job, const RunIdentity& identity, bool resume);
  RunSession(const RunSession&) = delete;
  RunSession& operator=(const RunSession&) = delete;

  /// Runs the launches `planner` asks for (fresh, of the identity's kind), or continues the recorded
  /// run on a resume, telling `observers` beside the run's output files. Throws like
  /// orchestrator::RunOrchestrator::run.
  orchestrator::RunStatus run(search::LaunchPlanner& planner, const std::vector<orchestrator::RunObserver*>& observers);

  /// On a resume, the fields of how the trainer runs that changed since the run started
  /// (orchestrator::ResumeChanges::accepted), e.g. {"trainer.loss.pattern"}; empty otherwise.
  std::vector<std::string> trainer_changes() const;
  /// Why the run stopped failed (a trainer check or the planner); nullopt otherwise. After run().
  const std::optional<std::string>& failure() const { return m_failure; }
  /// The signal that stopped the run (SIGINT, SIGTERM or SIGUSR1), or 0.
  int stop_signal() const { return m_stop_signal.load(); }
  const orchestrator::Clock& clock() const { return m_clock; }
  const spec::JobSpec& job() const { return m_job; }
  /// Removes every checkpoint of the run, for a run that is never resumed (the range test).
  void remove_checkpoints();

 private:
  spec::JobSpec m_job;
  nlohmann::json m_identity;
  std::string m_method;
  bool m_resume;
  storage::RunDirLock m_lock;
  std::atomic<int>& m_stop_signal;
  process::ProcessLauncher m_launcher;
  journal::JsonLinesJournal m_journal;
  storage::FilesystemCheckpointStore m_checkpoints;
  process::SteadyClock m_clock;
  report::RunOutputsWriter m_outputs;
  std::optional<std::string> m_failure;
};

/// How a training run talks to the console.
struct ConsoleOptions {
  bool quiet = false;               ///< only errors and the one-line result
  std::string log_format = "text";  ///< "text" (a live status line on a terminal) or "json"
};

/// `autolrs run` and `autolrs baseline`: runs `job` as `identity` says (its kind's planner, from
/// make_planner) with report.html and the console chosen by `console` beside the run's outputs.
/// Returns the exit status: 0 completed, 1 failed or stopped by an error of autolrs itself (a full
/// disk: printed as `autolrs: error: ...`), 128 + signal interrupted. A run that did not complete ends
/// with a line on stderr saying how to continue it: `<command> [--dry-run] --run-dir <run dir>
/// --resume`, the run dir shell-quoted, where `command` is the subcommand with its own options (e.g.
/// "autolrs run job.json"). Throws spec::InputError for an unusable run directory or journal.
int run_training(const spec::JobSpec& job, const RunIdentity& identity, bool resume, const std::string& command,
                 const ConsoleOptions& console = {});

/// `autolrs range-test`: runs `plan` (checked by the caller) on the job's trainer in the run-dir
/// layout of `autolrs run`, prints a line per LR to `out`, then the analysis, the suggested bounds
/// and a spec fragment, and writes range_test.svg to the run dir; the launches' checkpoints are
/// removed. Returns 0 with a suggestion, 1 without one (or when every launch failed), 128+signal
/// when interrupted. Throws spec::InputError for an unusable run directory.
int run_range_test(const spec::JobSpec& job, bool dry_run, const search::RangeTestPlan& plan, std::ostream& out);

/// `autolrs validate --launch`: runs the trainer check (search::default_trainer_check_plan) in a new
/// folder beside the job's run dir (`<run_dir>-check.XXXXXX`), printing a line per launch to `out`
/// and the run's trainer checks' warnings. Passed: the folder is removed, 0. Failed (a launch failed,
/// or a trainer check stopped it): the message on stderr, the folder kept without its checkpoints
/// for its logs, 1. Interrupted: 128 + signal.
int run_trainer_check(const spec::JobSpec& job, bool dry_run, std::ostream& out);

}  // namespace autolrs::session
