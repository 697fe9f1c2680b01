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
  virtual void on_run_finished(const RunState& /*state*/) {}
};

}  // namespace autolrs::orchestrator
