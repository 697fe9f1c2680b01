#include "search/numerics_json.hpp"

#include <string>

#include "spec/input_error.hpp"

namespace autolrs::numerics {

namespace {

const char* acquisition_name(Acquisition acquisition) {
  return acquisition == Acquisition::lower_confidence_bound ? "lower_confidence_bound" : "expected_improvement";
}

Acquisition acquisition_from(const std::string& name) {
  if (name == "lower_confidence_bound") return Acquisition::lower_confidence_bound;
  if (name == "expected_improvement") return Acquisition::expected_improvement;
  throw spec::InputError("acquisition", "unknown acquisition '" + name + "'");
}

ForecastStatus status_from(const std::string& name) {
  for (ForecastStatus status : {ForecastStatus::ok, ForecastStatus::diverged, ForecastStatus::insufficient}) {
    if (name == to_string(status)) return status;
  }
  throw spec::InputError("status", "unknown forecast status '" + name + "'");
}

}  // namespace

void to_json(nlohmann::json& json, const BayesOptConfig& config) {
  json = {{"lr_min", config.lr_min},           {"lr_max", config.lr_max},
          {"acquisition", acquisition_name(config.acquisition)},
          {"kappa", config.kappa},             {"grid_points", config.grid_points},
          {"min_separation", config.min_separation}};
}

void from_json(const nlohmann::json& json, BayesOptConfig& config) {
  json.at("lr_min").get_to(config.lr_min);
  json.at("lr_max").get_to(config.lr_max);
  config.acquisition = acquisition_from(json.at("acquisition").get<std::string>());
  json.at("kappa").get_to(config.kappa);
  json.at("grid_points").get_to(config.grid_points);
  json.at("min_separation").get_to(config.min_separation);
}

void to_json(nlohmann::json& json, const Forecast& forecast) {
  json = {{"prediction", forecast.prediction},
          {"a", forecast.a},
          {"b", forecast.b},
          {"c", forecast.c},
          {"residual_scale", forecast.residual_scale},
          {"prediction_std", forecast.prediction_std},
          {"points_used", forecast.points_used},
          {"status", to_string(forecast.status)},
          {"shape", to_string(forecast.shape)},
          {"t0", forecast.t0},
          {"power_law_weight", forecast.power_law_weight}};
}

void from_json(const nlohmann::json& json, Forecast& forecast) {
  forecast.status = status_from(json.at("status").get<std::string>());
  json.at("prediction").get_to(forecast.prediction);
  json.at("a").get_to(forecast.a);
  json.at("b").get_to(forecast.b);
  json.at("c").get_to(forecast.c);
  json.at("residual_scale").get_to(forecast.residual_scale);
  json.at("prediction_std").get_to(forecast.prediction_std);
  json.at("points_used").get_to(forecast.points_used);
  // Journals written before the power-law family hold exponentials only.
  forecast.shape = json.value("shape", "exponential") == "power_law" ? CurveShape::power_law : CurveShape::exponential;
  forecast.t0 = json.value("t0", 0.0);
  forecast.power_law_weight = json.value("power_law_weight", 0.0);
}

}  // namespace autolrs::numerics
