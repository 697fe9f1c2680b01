#include "session/run_identity.hpp"

#include <filesystem>
#include <string>

#include "orchestrator/journal.hpp"
#include "session/job_loading.hpp"
#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

namespace autolrs::session {

namespace fs = std::filesystem;

namespace {

/// The field of an error about the identity: its record, the journal's first line.
std::string identity_field() { return std::string(orchestrator::journal_file_name) + ":1"; }

nlohmann::json kind_json(const BaselineRun& baseline) {
  const search::ScheduleSpec& schedule = baseline.schedule;
  const bool segmented = !search::is_piecewise_constant(schedule.shape);
  nlohmann::json json = {{"schedule", search::to_string(schedule.shape)},
                         {"lr", schedule.peak_lr},
                         {"segments", segmented ? nlohmann::json(schedule.segments) : nlohmann::json(nullptr)}};
  if (schedule.shape == search::ScheduleShape::wsd) json["cooldown"] = schedule.cooldown_fraction;
  return json;
}

nlohmann::json kind_json(const ReplayRun& replay) {
  nlohmann::json segments = nlohmann::json::array();
  for (const search::ScheduleSegment& segment : replay.schedule.segments) {
    segments.push_back({{"start_step", segment.start_step},
                        {"steps", segment.steps},
                        {"lr", segment.lr},
                        {"lr_end", segment.lr_end ? nlohmann::json(*segment.lr_end) : nlohmann::json(nullptr)}});
  }
  return {{"schedule_file", replay.schedule_file},
          {"warmup", {{"steps", replay.schedule.warmup.steps}, {"lr", replay.schedule.warmup.lr}}},
          {"segments", std::move(segments)}};
}

nlohmann::json kind_json(const RangeTestRun& range_test) {
  const search::RangeTestPlan& plan = range_test.plan;
  return {{"lr_min", plan.lr_low}, {"lr_max", plan.lr_high}, {"points", plan.points}, {"steps", plan.steps}};
}

nlohmann::json kind_json(const TrainerCheckRun& check) {
  return {{"lr_high", check.plan.lr_high}, {"lr_low", check.plan.lr_low}, {"steps", check.plan.steps}};
}

BaselineRun baseline_from_json(const nlohmann::json& json) {
  BaselineRun baseline;
  const std::string name = json.at("schedule").get<std::string>();
  const std::optional<search::ScheduleShape> shape = search::schedule_shape_from_name(name);
  if (!shape) throw spec::InputError(identity_field(), "unknown baseline schedule \"" + name + "\"");
  baseline.schedule.shape = *shape;
  baseline.schedule.peak_lr = json.at("lr").get<double>();
  if (!json.at("segments").is_null()) baseline.schedule.segments = json.at("segments").get<int>();
  if (json.contains("cooldown")) baseline.schedule.cooldown_fraction = json.at("cooldown").get<double>();
  return baseline;
}

ReplayRun replay_from_json(const nlohmann::json& json) {
  ReplayRun replay{json.at("schedule_file").get<std::string>(), {}};
  replay.schedule.warmup = {json.at("warmup").at("steps").get<long>(), json.at("warmup").at("lr").get<double>()};
  for (const nlohmann::json& segment : json.at("segments")) {
    replay.schedule.segments.push_back({segment.at("start_step").get<long>(), segment.at("steps").get<long>(),
                                        segment.at("lr").get<double>(),
                                        segment.at("lr_end").is_null() ? std::nullopt : std::optional(segment.at("lr_end").get<double>())});
  }
  if (replay.schedule.segments.empty()) throw spec::InputError(identity_field(), "a replayed schedule without segments");
  return replay;
}

RangeTestRun range_test_from_json(const nlohmann::json& json) {
  return RangeTestRun{search::RangeTestPlan{json.at("lr_min").get<double>(), json.at("lr_max").get<double>(),
                                            json.at("points").get<int>(), json.at("steps").get<long>()}};
}

TrainerCheckRun trainer_check_from_json(const nlohmann::json& json) {
  return TrainerCheckRun{search::TrainerCheckPlan{json.at("lr_high").get<double>(), json.at("lr_low").get<double>(),
                                                  json.at("steps").get<long>()}};
}

}  // namespace

nlohmann::json identity_json(const RunIdentity& identity) {
  nlohmann::json json = {{"spec", identity.spec}, {"dry_run", identity.dry_run}};
  if (const auto* baseline = std::get_if<BaselineRun>(&identity.kind)) json["baseline"] = kind_json(*baseline);
  if (const auto* replay = std::get_if<ReplayRun>(&identity.kind)) json["replay"] = kind_json(*replay);
  if (const auto* range_test = std::get_if<RangeTestRun>(&identity.kind)) json["range_test"] = kind_json(*range_test);
  if (const auto* check = std::get_if<TrainerCheckRun>(&identity.kind)) json["trainer_check"] = kind_json(*check);
  return json;
}

RunIdentity identity_from_json(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("spec")) throw spec::InputError(identity_field(), "the run's identity has no spec");
  try {
    RunIdentity identity{json.at("spec"), json.value("dry_run", false), AutoLrsRun{}};
    if (json.contains("baseline")) identity.kind = baseline_from_json(json.at("baseline"));
    if (json.contains("replay")) identity.kind = replay_from_json(json.at("replay"));
    if (json.contains("range_test")) identity.kind = range_test_from_json(json.at("range_test"));
    if (json.contains("trainer_check")) identity.kind = trainer_check_from_json(json.at("trainer_check"));
    return identity;
  } catch (const nlohmann::json::exception& error) {
    throw spec::InputError(identity_field(), std::string("malformed run identity: ") + error.what());
  }
}

std::unique_ptr<search::LaunchPlanner> make_planner(const spec::JobSpec& job, const AutoLrsRun&) {
  return search::make_search(job);
}

std::unique_ptr<search::FixedSchedule> make_planner(const spec::JobSpec& job, const BaselineRun& kind) {
  search::ScheduleSpec schedule = kind.schedule;
  schedule.ramps = job.trainer.takes_lr_ramps();  // a fact of the spec, which the identity holds
  return std::make_unique<search::FixedSchedule>(job, schedule);
}

std::unique_ptr<search::FixedSchedule> make_planner(const spec::JobSpec& job, const ReplayRun& kind) {
  search::ReplayedSchedule schedule = search::scaled_to(kind.schedule, job.total_steps);
  if (!job.trainer.takes_lr_ramps()) schedule.segments = search::constant_pieces(std::move(schedule.segments));
  return std::make_unique<search::FixedSchedule>(job, schedule.warmup, std::move(schedule.segments));
}

std::unique_ptr<search::RangeTest> make_planner(const spec::JobSpec&, const RangeTestRun& kind) {
  return std::make_unique<search::RangeTest>(kind.plan);
}

std::unique_ptr<search::TrainerCheck> make_planner(const spec::JobSpec&, const TrainerCheckRun& kind) {
  return std::make_unique<search::TrainerCheck>(kind.plan);
}

std::unique_ptr<search::LaunchPlanner> make_planner(const spec::JobSpec& job, const RunKind& kind) {
  return std::visit([&](const auto& typed) -> std::unique_ptr<search::LaunchPlanner> { return make_planner(job, typed); },
                    kind);
}

std::string describe_method(const RunKind& kind, const spec::JobSpec& job) {
  if (const auto* replay = std::get_if<ReplayRun>(&kind)) {
    const long file_steps = replay->schedule.total_steps();
    return "baseline: the schedule of " + replay->schedule_file +
           (file_steps == job.total_steps
                ? ""
                : ", scaled from " + std::to_string(file_steps) + " to " + std::to_string(job.total_steps) + " steps");
  }
  if (const auto* baseline = std::get_if<BaselineRun>(&kind)) {
    return "baseline: " + std::string(search::to_string(baseline->schedule.shape)) + " schedule, peak lr " +
           spec::format_number(baseline->schedule.peak_lr);
  }
  if (std::holds_alternative<RangeTestRun>(kind)) return "LR range test";
  if (std::holds_alternative<TrainerCheckRun>(kind)) return "trainer check";
  return "";
}

spec::JobSpec job_for_identity(const RunIdentity& identity, const std::string& run_dir) {
  spec::JobSpec job = spec::parse_job_spec(identity.spec.dump(), (fs::path(run_dir) / orchestrator::journal_file_name).string());
  job.run_dir = run_dir;
  if (identity.dry_run) job.trainer = simulator_trainer(self_executable(), job);
  return job;
}

}  // namespace autolrs::session
