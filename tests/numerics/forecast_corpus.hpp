#pragma once

// Evaluation corpus for the loss forecaster: synthetic loss curves with known truth, plus any real
// series saved as CSV files (see load_corpus_csv) with the loss actually reached at the horizon.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/forecaster.hpp"

namespace autolrs::testing {

struct CorpusSeries {
  std::string kind;  ///< the group it is reported in
  numerics::SeriesKind series_kind = numerics::SeriesKind::train;
  std::vector<double> steps, losses;  ///< the probe window, steps from the stage start
  double horizon = 0;                 ///< step of the forecast
  double truth = 0;                   ///< noise-free loss at the horizon
};

/// Shape and noise of one synthetic kind. Curves are c + a exp(-r t) (or, when `power_law`, the
/// misspecified c + a (1 + t / tau)^-1 with tau = window / rate_times_window), times (1 + noise N(0,1)),
/// with a fraction of points multiplied by U[1.5, 3] (loss spikes).
struct SyntheticKind {
  std::string name;
  numerics::SeriesKind series_kind;
  double rate_min, rate_max;  ///< decay rate times the window length
  double noise;               ///< relative Gaussian noise
  double spike_fraction;
  bool power_law = false;
};

inline std::vector<SyntheticKind> synthetic_kinds() {
  using numerics::SeriesKind;
  return {
      {"train fast 2%", SeriesKind::train, 3.0, 6.0, 0.02, 0.0},
      {"train medium 2%", SeriesKind::train, 1.0, 3.0, 0.02, 0.0},
      {"train slow 2%", SeriesKind::train, 0.3, 1.0, 0.02, 0.0},
      {"train medium 10%", SeriesKind::train, 1.0, 3.0, 0.10, 0.0},
      {"train slow 10%", SeriesKind::train, 0.3, 1.0, 0.10, 0.0},
      {"train medium 5% spikes", SeriesKind::train, 1.0, 3.0, 0.05, 0.04},
      {"train power-law 2%", SeriesKind::train, 1.0, 5.0, 0.02, 0.0, true},
      {"val medium 1%", SeriesKind::val, 1.0, 3.0, 0.01, 0.0},
      {"val slow 1%", SeriesKind::val, 0.3, 1.0, 0.01, 0.0},
  };
}

/// `count` series of each synthetic kind: training windows are steps 1..100, validation windows 16
/// evaluations every 6 steps; the horizon is step 1000 (10x the window). Deterministic in `seed`.
inline std::vector<CorpusSeries> synthetic_corpus(std::uint64_t seed, int count) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> gaussian(0.0, 1.0);
  const auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * unit(random); };
  std::vector<CorpusSeries> corpus;
  for (const SyntheticKind& kind : synthetic_kinds()) {
    const bool train = kind.series_kind == numerics::SeriesKind::train;
    const double window = train ? 100 : 96, spacing = train ? 1 : 6;
    for (int i = 0; i < count; ++i) {
      const double c = uniform(0.3, 2.0), a = uniform(0.3, 2.0);
      const double rate = uniform(kind.rate_min, kind.rate_max) / window;
      const auto curve = [&](double t) {
        return kind.power_law ? c + a / (1 + t * rate) : c + a * std::exp(-rate * t);
      };
      CorpusSeries series{kind.name, kind.series_kind, {}, {}, 1000, curve(1000)};
      for (double t = spacing; t <= window; t += spacing) {
        double loss = curve(t) * (1 + kind.noise * gaussian(random));
        if (unit(random) < kind.spike_fraction) loss *= uniform(1.5, 3.0);
        series.steps.push_back(t);
        series.losses.push_back(loss);
      }
      corpus.push_back(std::move(series));
    }
  }
  return corpus;
}

/// One real series from a CSV file: a line `kind,<group name>,<train|val>`, a line
/// `horizon,<step>,<loss reached at that step>`, then `step,loss` lines. Throws std::runtime_error
/// on anything else.
inline CorpusSeries load_corpus_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  CorpusSeries series;
  std::string line;
  const auto fields = [](const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    for (std::string part; std::getline(stream, part, ',');) parts.push_back(part);
    return parts;
  };
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> parts = fields(line);
    const std::string where = path.string() + ":" + std::to_string(number);
    if (parts.size() == 3 && parts[0] == "kind") {
      series.kind = parts[1];
      series.series_kind = parts[2] == "val" ? numerics::SeriesKind::val : numerics::SeriesKind::train;
    } else if (parts.size() == 3 && parts[0] == "horizon") {
      series.horizon = std::stod(parts[1]);
      series.truth = std::stod(parts[2]);
    } else if (parts.size() == 2) {
      series.steps.push_back(std::stod(parts[0]));
      series.losses.push_back(std::stod(parts[1]));
    } else {
      throw std::runtime_error(where + ": expected kind, horizon or step,loss");
    }
  }
  if (series.kind.empty() || series.steps.empty()) throw std::runtime_error(path.string() + ": incomplete series");
  return series;
}

/// Every *.csv series in `directory` (sorted by name); none when the directory does not exist.
inline std::vector<CorpusSeries> load_corpus_directory(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(directory)) {
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      if (entry.path().extension() == ".csv") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<CorpusSeries> corpus;
  for (const auto& file : files) corpus.push_back(load_corpus_csv(file));
  return corpus;
}

}  // namespace autolrs::testing
