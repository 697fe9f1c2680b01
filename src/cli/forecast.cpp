#include "cli/forecast.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "numerics/forecaster.hpp"
#include "search/numerics_json.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

/// The whole of `text` as a number (nan and inf included), or nullopt.
std::optional<double> parse_number(const std::string& text) {
  const std::string field = trim(text);
  if (field.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(field.c_str(), &end);
  if (end != field.c_str() + field.size()) return std::nullopt;
  return value;
}

}  // namespace

LossSeries read_loss_series(std::istream& in, const std::string& source) {
  LossSeries series;
  std::optional<bool> with_steps;  // decided by the first data line
  bool seen_first_line = false;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line);
    if (text.empty()) continue;
    const std::string where = source + ":" + std::to_string(number);
    const bool first_line = !seen_first_line;
    seen_first_line = true;
    const auto comma = text.find(',');
    std::optional<double> step, loss;
    if (comma == std::string::npos) {
      loss = parse_number(text);
    } else if (text.find(',', comma + 1) == std::string::npos) {
      step = parse_number(text.substr(0, comma));
      loss = parse_number(text.substr(comma + 1));
    }
    const bool usable = loss && (comma == std::string::npos || step);
    if (!usable) {
      if (first_line) continue;  // a header such as "step,loss"
      throw spec::InputError(where, "expected a loss or 'step,loss', got '" + text + "'");
    }
    const bool has_step = comma != std::string::npos;
    if (with_steps && *with_steps != has_step) {
      throw spec::InputError(where, "mixes lines with and without steps");
    }
    with_steps = has_step;
    const double t = has_step ? *step : static_cast<double>(series.steps.size());
    if (!std::isfinite(t)) throw spec::InputError(where, "step is not finite");
    if (!series.steps.empty() && !(t > series.steps.back())) {
      throw spec::InputError(where, "steps must increase");
    }
    series.steps.push_back(t);
    series.losses.push_back(*loss);
  }
  if (series.losses.empty()) throw spec::InputError(source, "no losses");
  return series;
}

CLI::App* setup_forecast(CLI::App& parent, ForecastOptions& options) {
  CLI::App* command = parent.add_subcommand(
      "forecast",
      "Fit y = a exp(b t) + c (and, by default, y = a (t + t0)^b + c) to a loss series and print the forecast at the "
      "horizon as JSON");
  command->add_option("input", options.input, "File of losses (one per line, or step,loss); - for stdin");
  command->add_option("--horizon", options.horizon, "Step to forecast the loss at")->required();
  command->add_option("--kind", options.kind, "Loss kind: train (noisy, spiky) or val")
      ->check(CLI::IsMember({"train", "val"}));
  command->add_option("--family", options.family,
                      "Curves: exponential_or_power_law (default: the exponential averaged with a power law as "
                      "the series supports it) or exponential (the AutoLRS paper's model alone)")
      ->check(CLI::IsMember({"exponential_or_power_law", "exponential"}));
  return command;
}

int run_forecast(const ForecastOptions& options) {
  if (options.kind != "train" && options.kind != "val") {
    throw spec::InputError("--kind", "must be train or val, got '" + options.kind + "'");
  }
  if (options.family != "exponential_or_power_law" && options.family != "exponential") {
    throw spec::InputError("--family", "must be exponential_or_power_law or exponential, got '" + options.family + "'");
  }
  if (!std::isfinite(options.horizon)) throw spec::InputError("--horizon", "must be finite");
  LossSeries series;
  if (options.input == "-") {
    series = read_loss_series(std::cin, "stdin");
  } else {
    std::ifstream file(options.input);
    if (!file) throw spec::InputError(options.input, "cannot open");
    series = read_loss_series(file, options.input);
  }
  const numerics::Forecast forecast = numerics::forecast_loss(
      series.steps, series.losses, options.horizon,
      options.kind == "val" ? numerics::SeriesKind::val : numerics::SeriesKind::train,
      options.family == "exponential" ? numerics::ForecastFamily::exponential
                                      : numerics::ForecastFamily::exponential_or_power_law);
  const nlohmann::json json = forecast;
  std::cout << json.dump() << "\n";
  return 0;
}

}  // namespace autolrs::cli
