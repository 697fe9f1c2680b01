#include "console/json_events.hpp"

#include <cmath>

#include "console/console_reporter.hpp"
#include "orchestrator/run_summary.hpp"
#include "search/search_json.hpp"

namespace autolrs::console {

namespace {

nlohmann::json last_loss(const std::vector<search::LossPoint>& points) {
  if (points.empty() || !std::isfinite(points.back().loss)) return nullptr;
  return points.back().loss;
}

}  // namespace

nlohmann::json launch_started_event(const search::LaunchRequest& request, int slot, const orchestrator::RunState& state) {
  return {{"event", "launch_started"}, {"elapsed_s", state.wall_time_s}, {"launch", request.id()},
          {"slot", slot},              {"request", request}};
}

nlohmann::json launch_finished_event(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  const std::optional<double> forecast = probe_forecast(report.request, state);
  const std::optional<double> end_loss = probe_end_loss(report.request, state);
  return {{"event", "launch_finished"},
          {"elapsed_s", state.wall_time_s},
          {"launch", report.request.id()},
          {"request", report.request},
          {"status", search::to_string(report.outcome.status)},
          {"reason", report.outcome.reason},
          {"wall_s", report.wall_s},
          {"train_points", report.outcome.train.size()},
          {"val_points", report.outcome.val.size()},
          {"last_loss", last_loss(report.outcome.train)},
          {"last_val_loss", last_loss(report.outcome.val)},
          {"forecast", forecast ? nlohmann::json(*forecast) : nlohmann::json(nullptr)},
          {"end_loss", end_loss ? nlohmann::json(*end_loss) : nlohmann::json(nullptr)},
          {"model_steps", state.progress.model_steps},
          {"probe_steps", state.progress.probe_steps}};
}

nlohmann::json run_finished_event(const orchestrator::RunState& state) {
  return {{"event", "run_finished"},
          {"elapsed_s", state.wall_time_s},
          {"status", orchestrator::to_string(state.status)},
          {"summary", orchestrator::run_summary(state)}};
}

void JsonEventReporter::emit(const nlohmann::json& event) { m_out << event.dump() << "\n" << std::flush; }

void JsonEventReporter::on_launch_started(const search::LaunchRequest& request, int slot, const orchestrator::RunState& state) {
  emit(launch_started_event(request, slot, state));
}

void JsonEventReporter::on_warning(const std::string& message, const orchestrator::RunState& state) {
  emit({{"event", "warning"}, {"elapsed_s", state.wall_time_s}, {"message", message}});
}

void JsonEventReporter::on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  emit(launch_finished_event(report, state));
}

void JsonEventReporter::on_run_finished(const orchestrator::RunState& state) { emit(run_finished_event(state)); }

}  // namespace autolrs::console
