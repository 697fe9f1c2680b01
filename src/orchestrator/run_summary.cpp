#include "orchestrator/run_summary.hpp"

#include <cmath>

#include "spec/command_template.hpp"

namespace autolrs::orchestrator {

namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  return value && std::isfinite(*value) ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

/// The last main launch that trained: its losses are the run's final ones.
template <typename Record>
void take_final_losses(const Record& record, nlohmann::json& summary) {
  if (!record.completed) return;
  summary["final_loss"] = optional_number(record.final_loss);
  summary["final_val_loss"] = optional_number(record.final_val_loss);
}

std::string csv_number(double value) { return std::isfinite(value) ? spec::format_number(value) : "nan"; }

}  // namespace

nlohmann::json run_summary(const RunState& state) {
  const search::SearchRecord& progress = state.progress;
  nlohmann::json summary = {
      {"name", state.job.name},
      {"status", to_string(state.status)},
      {"total_steps", progress.model_steps},
      {"target_steps", state.job.total_steps},
      {"probe_steps", progress.probe_steps},
      {"discarded_steps", progress.discarded_steps},
      {"compute_steps", progress.model_steps + progress.probe_steps + progress.discarded_steps},
      {"probe_steps_per_training_step",
       progress.model_steps > 0 ? static_cast<double>(progress.probe_steps) / static_cast<double>(progress.model_steps) : 0.0},
      {"final_checkpoint", state.final_checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(state.final_checkpoint)},
      {"final_loss", nullptr},
      {"final_val_loss", nullptr},
      {"wall_time_s", state.wall_time_s},
      {"launches", state.launches.size()},
      {"failure", state.failure ? nlohmann::json(*state.failure) : nlohmann::json(nullptr)},
  };
  if (progress.warmup) {
    summary["warmup"] = {{"steps", progress.warmup->steps}, {"lr", progress.warmup->lr}, {"completed", progress.warmup->completed}};
    take_final_losses(*progress.warmup, summary);
  }
  nlohmann::json stages = nlohmann::json::array();
  for (const search::StageRecord& stage : progress.stages) {
    nlohmann::json probes = nlohmann::json::array();
    for (const search::ProbeRecord& probe : stage.probes) {
      const bool forecast_usable = probe.forecast && probe.status == search::ProbeStatus::succeeded;
      probes.push_back({{"lr", probe.lr},
                        {"steps", probe.steps},
                        {"status", search::to_string(probe.status)},
                        {"forecast", forecast_usable ? nlohmann::json(probe.forecast->prediction) : nlohmann::json(nullptr)},
                        {"forecast_std", forecast_usable ? nlohmann::json(probe.forecast->prediction_std) : nlohmann::json(nullptr)},
                        {"objective", probe.forecast_from_val ? "val_loss" : "train_loss"},
                        {"end_loss", probe.end_loss ? nlohmann::json(*probe.end_loss) : nlohmann::json(nullptr)},
                        {"rounds", probe.rounds},
                        {"reason", probe.reason}});
    }
    stages.push_back({{"stage", stage.index},
                      {"start_step", stage.start_step},
                      {"steps", stage.steps},
                      {"probe_steps", stage.probe_steps},
                      {"lr", optional_number(stage.lr)},
                      {"lr_end", optional_number(stage.lr_end ? stage.lr_end : stage.lr)},
                      {"winner_probe", stage.winner_probe >= 0 ? nlohmann::json(stage.winner_probe) : nlohmann::json(nullptr)},
                      {"probes_judged", search::judged_probe_count(stage)},
                      {"attempts", stage.attempts},
                      {"abandoned_lrs", stage.abandoned_lrs},
                      {"completed", stage.completed},
                      {"final_loss", optional_number(stage.final_loss)},
                      {"final_val_loss", optional_number(stage.final_val_loss)},
                      {"probes", std::move(probes)}});
    take_final_losses(stage, summary);
  }
  summary["stages"] = std::move(stages);
  if (progress.decay) {
    summary["decay"] = {{"shape", progress.decay->shape}, {"anneal_gain", optional_number(progress.decay->anneal_gain)}};
  }
  return summary;
}

std::string schedule_csv(const RunState& state) {
  std::string csv = "stage,start_step,steps,lr,lr_end\n";
  if (state.progress.warmup && state.progress.warmup->completed) {
    const std::string lr = csv_number(state.progress.warmup->lr);
    csv += "warmup,0," + std::to_string(state.progress.warmup->steps) + "," + lr + "," + lr + "\n";
  }
  for (const search::StageRecord& stage : state.progress.stages) {
    if (!stage.completed) continue;
    csv += std::to_string(stage.index) + "," + std::to_string(stage.start_step) + "," + std::to_string(stage.steps) +
           "," + csv_number(*stage.lr) + "," + csv_number(stage.lr_end.value_or(*stage.lr)) + "\n";
  }
  return csv;
}

std::string loss_csv_rows(const LaunchReport& report) {
  const search::LaunchRequest& request = report.request;
  const std::string kind = request.decay_tail ? "decay" : search::to_string(request.kind);
  const std::string prefix = kind + "," + std::to_string(request.stage) + "," + std::to_string(request.probe) + ",";
  std::string rows;
  const auto append = [&](const std::vector<search::LossPoint>& points, const char* split) {
    for (const search::LossPoint& point : points) {
      rows += prefix + csv_number(search::lr_at_launch_step(request, point.step)) + "," +
              csv_number(static_cast<double>(request.start_step) + point.step) + "," + csv_number(point.loss) + "," +
              split + "\n";
    }
  };
  append(report.outcome.train, "train");
  append(report.outcome.val, "val");
  return rows;
}

}  // namespace autolrs::orchestrator
