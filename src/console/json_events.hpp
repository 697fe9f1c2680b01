#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "orchestrator/run_observer.hpp"

namespace autolrs::console {

/// `--log-format json`: one JSON object per line per event, for scripts and dashboards (schema in
/// README.md, "Console output"). Every object has "event" and "elapsed_s" (run wall time, resumes
/// included); "request" is the launch as the journal stores it. Non-finite numbers are null.
class JsonEventReporter : public orchestrator::RunObserver {
 public:
  explicit JsonEventReporter(std::ostream& out) : m_out(out) {}

  void on_launch_started(const search::LaunchRequest& request, int slot, const orchestrator::RunState& state) override;
  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_run_finished(const orchestrator::RunState& state) override;
  /// {"event": "warning", "elapsed_s", "message"}.
  void on_warning(const std::string& message, const orchestrator::RunState& state) override;

 private:
  void emit(const nlohmann::json& event);

  std::ostream& m_out;
};

/// launch_started: {"event", "elapsed_s", "launch" (id), "slot", "request"}.
nlohmann::json launch_started_event(const search::LaunchRequest& request, int slot, const orchestrator::RunState& state);
/// launch_finished: {"event", "elapsed_s", "launch", "request", "status", "reason", "wall_s",
/// "train_points", "val_points", "last_loss", "last_val_loss", "forecast", "model_steps", "probe_steps"}.
nlohmann::json launch_finished_event(const orchestrator::LaunchReport& report, const orchestrator::RunState& state);
/// run_finished: {"event", "elapsed_s", "status", "summary" (summary.json's content)}.
nlohmann::json run_finished_event(const orchestrator::RunState& state);

}  // namespace autolrs::console
