#pragma once

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/launcher.hpp"
#include "search/launch_types.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::orchestrator {

/// A finished launch with everything known about it.
struct LaunchReport {
  search::LaunchRequest request;
  search::LaunchOutcome outcome;
  double wall_s = 0;
  std::string checkpoint;  ///< absolute path of the promoted checkpoint; empty when none
  std::string stdout_log, stderr_log;
  /// For a failed launch, the log that shows why (its reason names it; stderr when stdout is empty)
  /// and its last lines (at most 5, each cut to 300 bytes); empty when no log says more.
  std::string failure_log{};
  std::vector<std::string> log_tail{};
};

enum class RunStatus { running, completed, failed, interrupted };
const char* to_string(RunStatus status);

/// The run as it stands, handed to observers.
struct RunState {
  const spec::JobSpec& job;
  const search::SearchRecord& progress;
  const std::vector<LaunchReport>& launches;  ///< in the order they finished
  RunStatus status = RunStatus::running;
  double wall_time_s = 0;            ///< across all sessions of the run (resumes included)
  std::string final_checkpoint;      ///< the latest promoted main checkpoint; empty before one exists
  std::optional<std::string> failure;
  /// What chose the LRs when it is not the AutoLRS search, e.g. "baseline: cosine schedule, peak lr
  /// 0.1" (RunContext::method); empty for the search.
  std::string method{};
};

/// Receives the run's events: console output, the run's output files and report implement it.
/// Calls are serialized by the orchestrator (never concurrent), in event order.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_launch_started(const search::LaunchRequest& /*request*/, int /*slot*/, const RunState& /*state*/) {}
  /// A loss parsed from a running launch; `step` on the launch's own axis when known (else 0).
  virtual void on_loss(const search::LaunchRequest& /*request*/, bool /*is_val*/, double /*loss*/) {}
  virtual void on_launch_finished(const LaunchReport& /*report*/, const RunState& /*state*/) {}
  /// Something about the trainer the user must hear (e.g. a val_loss pattern that matched nothing),
  /// said once, after the launch that showed it.
  virtual void on_warning(const std::string& /*message*/, const RunState& /*state*/) {}
  virtual void on_run_finished(const RunState& /*state*/) {}
};

}  // namespace autolrs::orchestrator
