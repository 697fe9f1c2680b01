#include "search/search_json.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace autolrs::search {

namespace {

template <typename Enum, size_t N>
Enum enum_from_string(const std::string& text, const Enum (&values)[N]) {
  for (Enum value : values) {
    if (text == to_string(value)) return value;
  }
  throw std::invalid_argument("unknown value \"" + text + "\"");
}

/// Loss points as [[step, loss], ...]; non-finite losses (divergence) as null, since JSON has no NaN.
nlohmann::json points_to_json(const std::vector<LossPoint>& points) {
  nlohmann::json array = nlohmann::json::array();
  for (const LossPoint& point : points) {
    array.push_back({point.step, std::isfinite(point.loss) ? nlohmann::json(point.loss) : nlohmann::json(nullptr)});
  }
  return array;
}

std::vector<LossPoint> points_from_json(const nlohmann::json& array) {
  std::vector<LossPoint> points;
  for (const nlohmann::json& pair : array) {
    const nlohmann::json& loss = pair.at(1);
    points.push_back({pair.at(0).get<double>(), loss.is_null() ? std::nan("") : loss.get<double>()});
  }
  return points;
}

}  // namespace

void to_json(nlohmann::json& json, const LaunchRequest& request) {
  json = {{"kind", to_string(request.kind)}, {"stage", request.stage},     {"probe", request.probe},
          {"attempt", request.attempt},      {"lr", request.lr},           {"steps", request.steps},
          {"start_step", request.start_step}, {"from_probe", request.from_probe},
          {"decay_tail", request.decay_tail}};
  if (request.lr_end) json["lr_end"] = *request.lr_end;
  if (request.round > 0) json["round"] = request.round;
}

void from_json(const nlohmann::json& json, LaunchRequest& request) {
  request.kind = enum_from_string(json.at("kind").get<std::string>(),
                                  {LaunchKind::warmup, LaunchKind::probe, LaunchKind::stage});
  request.stage = json.at("stage").get<int>();
  request.probe = json.at("probe").get<int>();
  request.attempt = json.at("attempt").get<int>();
  request.lr = json.at("lr").get<double>();
  request.steps = json.at("steps").get<long>();
  request.start_step = json.at("start_step").get<long>();
  request.from_probe = json.value("from_probe", -1);
  request.decay_tail = json.value("decay_tail", false);
  if (json.contains("lr_end")) request.lr_end = json.at("lr_end").get<double>();
  request.round = json.value("round", 0);
}

void to_json(nlohmann::json& json, const LaunchOutcome& outcome) {
  json = {{"status", to_string(outcome.status)},
          {"reason", outcome.reason},
          {"train", points_to_json(outcome.train)},
          {"val", points_to_json(outcome.val)}};
}

void from_json(const nlohmann::json& json, LaunchOutcome& outcome) {
  outcome.status = enum_from_string(json.at("status").get<std::string>(),
                                    {OutcomeStatus::succeeded, OutcomeStatus::failed, OutcomeStatus::diverged});
  outcome.reason = json.at("reason").get<std::string>();
  outcome.train = points_from_json(json.at("train"));
  outcome.val = points_from_json(json.at("val"));
}

}  // namespace autolrs::search
