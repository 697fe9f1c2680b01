#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "orchestrator/run_observer.hpp"

namespace autolrs::console {

/// What a launch is, e.g. "[stage 2 of 5] probe 3 of 10", "[stage 2 of 5] train 1000 steps", "[warmup]      train 50 steps":
/// stages and probes numbered from 0, as in launch ids, errors, the table and the report; the stage
/// count is the planner's (planned_stages) or the job's stage plan, the probe count the search's for
/// that stage (StageRecord::probe_count). A probe's stage must be in `state.progress`.
std::string launch_label(const search::LaunchRequest& request, const orchestrator::RunState& state);

/// A retried launch's " (retry N: <why the attempt before it failed>)", the reason's first line cut
/// short (the full one is in the earlier launch's line and the journal); empty for a first attempt.
std::string retry_text(const search::LaunchRequest& request, const orchestrator::RunState& state);

/// One line about a finished launch: stage and probe, LR, retry, last loss, forecast, wall time, e.g.
/// "[stage 1 of 5] probe 3 of 10  lr=1.000e-02  loss=0.4  val=0.5  forecast=0.3  (1.2 s)".
std::string launch_line(const orchestrator::LaunchReport& report, const orchestrator::RunState& state);

/// The run's one-line result ("autolrs: completed: 6000 model steps + ..."), then the failure and the
/// final checkpoint when there are, each line ending in '\n'.
std::string run_result(const orchestrator::RunState& state);

/// The forecast of a finished probe, when it succeeded and was forecast.
std::optional<double> probe_forecast(const search::LaunchRequest& request, const orchestrator::RunState& state);

/// The end loss a finished probe was judged by (the default preset; see search::ProbeRecord::end_loss).
std::optional<double> probe_end_loss(const search::LaunchRequest& request, const orchestrator::RunState& state);

/// Prints the run for people, one plain line per event (for logs and pipes): a launch_line per
/// finished launch, then a table of stages and the run_result.
class ConsoleReporter : public orchestrator::RunObserver {
 public:
  explicit ConsoleReporter(std::ostream& out) : m_out(out) {}

  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_run_finished(const orchestrator::RunState& state) override;
  /// "autolrs: warning: <message>" on its own line.
  void on_warning(const std::string& message, const orchestrator::RunState& state) override;

 private:
  std::ostream& m_out;
};

/// `--quiet`: prints only the run_result at the end (errors go to stderr elsewhere).
class QuietReporter : public orchestrator::RunObserver {
 public:
  explicit QuietReporter(std::ostream& out) : m_out(out) {}

  void on_run_finished(const orchestrator::RunState& state) override { m_out << run_result(state) << std::flush; }

 private:
  std::ostream& m_out;
};

}  // namespace autolrs::console
