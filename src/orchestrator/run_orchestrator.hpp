#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/checkpoint_store.hpp"
#include "orchestrator/clock.hpp"
#include "orchestrator/journal.hpp"
#include "orchestrator/launcher.hpp"
#include "orchestrator/run_observer.hpp"
#include "search/launch_planner.hpp"
#include "spec/job_spec.hpp"
#include "trainer_output/loss_line_parser.hpp"

namespace autolrs::orchestrator {

/// What the orchestrator works with; all owned by the caller and outliving the run.
struct RunContext {
  Launcher& launcher;
  Journal& journal;
  CheckpointStore& checkpoints;
  const Clock& clock;
  std::vector<RunObserver*> observers;
  /// Set non-zero (by a signal handler) to stop: no new launch starts; the launcher, which reads the
  /// same flag, ends the running ones as interrupted.
  const std::atomic<int>* stop_signal = nullptr;
  /// RunState::method: what chose the LRs, for the outputs' titles; empty for the AutoLRS search.
  std::string method{};
};

/// Drives a run on one thread: asks a planner (the AutoLRS search, a fixed baseline schedule, a range
/// test) for launches, starts them on the job's slots and waits for the next to end (Launcher),
/// turns their output into outcomes (parsing each line as it comes, stopping a diverging launch),
/// promotes their checkpoints, journals every decision and result before acting on it, and tells
/// observers. Nothing here is shared with another thread: no lock is held while outputs are written.
class RunOrchestrator {
 public:
  /// `run_identity` is what must not change between a run and its resume (the spec as written, the
  /// mode); it is stored in the journal's first record.
  RunOrchestrator(spec::JobSpec job, nlohmann::json run_identity, RunContext context);

  /// Runs to the end the launches that `planner` (fresh, in its initial state) asks for, or, with
  /// `resume`, continues the run recorded in the journal: finished launches are not rerun and the
  /// planner is rebuilt by replaying the journal; a run that ended failed runs the launch that
  /// failed it once more (with the same spec: the fix is outside it, e.g. in the trainer). Throws
  /// spec::InputError when the journal is missing, corrupt or belongs to a different job. When
  /// autolrs itself fails mid-run (a journal append, an observer, a checkpoint promotion, a launch
  /// that ended as LaunchEnd::launcher_error: a log that could not be written), it interrupts the
  /// running launches (Launcher::interrupt), waits for them, tells the observers the run failed
  /// (with the error as its failure; errors of theirs ignored) and rethrows: the journal holds every
  /// result recorded before the failure and none of the launches in flight, so --resume reruns them.
  RunStatus run(search::LaunchPlanner& planner, bool resume);
  /// Why the run cannot go on: a trainer check's stop (trainer_checks.hpp), else the planner's failure.
  std::optional<std::string> failure(const search::LaunchPlanner& planner) const {
    return m_failure ? m_failure : planner.failure();
  }

 private:
  struct RunningLaunch;

  void replay_journal(search::LaunchPlanner& search);
  /// The checkpoint a launch starts from: a probe's, a model step's, or none (from scratch).
  std::optional<std::string> start_checkpoint_of(const search::LaunchRequest& request) const;
  /// Keeps a succeeded launch's checkpoint for the launches that start from it (a stage's for the next
  /// stage, a probe's for its tail and its stage); drops a decay tail's, and an abandoned stage launch's.
  void remember_checkpoint(const LaunchReport& report, const search::LaunchPlanner& search);
  LaunchCommand build_command(const search::LaunchRequest& request, int slot, const std::string& save_path) const;
  /// Takes one output line of a running launch: records its losses, tells observers, and returns
  /// false to stop the launch once its train loss has diverged.
  bool on_line(RunningLaunch& launch, OutputStream stream, std::string_view line);
  /// The ended launch's outcome; its checkpoint promoted on success, its staging removed otherwise.
  /// A failure of ours around it (a checkpoint rename) throws: it stops the run, not the launch.
  LaunchReport report_of(const RunningLaunch& launch, const LaunchResult& result);
  void accept_report(search::LaunchPlanner& search, LaunchReport report);
  /// After a stage launch the search accepted (its stage is completed): drops that stage's probe
  /// checkpoints and all but the newest keep_checkpoints stage checkpoints.
  void prune_checkpoints(const LaunchReport& report, const search::LaunchPlanner& search);
  RunState state(const search::LaunchPlanner& search, RunStatus status) const;
  double elapsed_s() const;

  spec::JobSpec m_job;
  nlohmann::json m_run_identity;
  RunContext m_context;
  trainer_output::LossLineParser m_parser;
  std::vector<LaunchReport> m_reports;
  std::map<long, std::string> m_step_checkpoints;  ///< model step → promoted checkpoint
  std::map<std::pair<int, int>, std::string> m_probe_checkpoints;  ///< (stage, probe) → checkpoint, until the stage ends
  /// Why the trainer checks (trainer_checks.hpp) stopped the run; nullopt while they have not.
  std::optional<std::string> m_failure;
  double m_previous_elapsed_s = 0;
  double m_session_start_s = 0;
};

}  // namespace autolrs::orchestrator
