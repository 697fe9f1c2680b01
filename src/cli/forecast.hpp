#pragma once

#include <istream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace autolrs::cli {

struct ForecastOptions {
  std::string input = "-";  ///< file of losses, or "-" for stdin
  double horizon = 0;
  std::string kind = "train";
  std::string family = "exponential_or_power_law";  ///< or "exponential" (the paper's model alone)
};

/// A loss series read from text: steps (0, 1, 2, ... when lines hold only losses) and losses.
struct LossSeries {
  std::vector<double> steps, losses;
};

/// Reads one loss per line or `step,loss` lines; blank lines and a non-numeric first line (a header)
/// are skipped; losses may be nan or inf (the forecast reports them as diverged). Throws
/// spec::InputError("<source>:<line>", ...) on any other line, on a mix of the two forms, on steps
/// that do not increase, and InputError("<source>", "no losses") when there is no data.
LossSeries read_loss_series(std::istream& in, const std::string& source);

/// `autolrs forecast [FILE|-] --horizon H [--kind train|val] [--family exponential|exponential_or_power_law]`:
/// fits one series, prints one JSON object (prediction, a, b, c, residual_scale, prediction_std,
/// points_used, status, and shape, t0, power_law_weight, which say what a, b, c describe) and a newline.
CLI::App* setup_forecast(CLI::App& parent, ForecastOptions& options);
int run_forecast(const ForecastOptions& options);

}  // namespace autolrs::cli
