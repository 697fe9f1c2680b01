#pragma once

// Evaluation corpus for the loss forecaster: synthetic loss curves with known truth, and real probe
// series of the PyTorch example trainer with the loss actually reached at the horizon (load_torch_corpus).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "numerics/forecaster.hpp"

namespace autolrs::testing {

struct CorpusSeries {
  std::string kind;  ///< the group it is reported in
  numerics::SeriesKind series_kind = numerics::SeriesKind::train;
  std::vector<double> steps, losses;  ///< the probe window, steps from the stage start
  double horizon = 0;                 ///< step of the forecast
  double truth = 0;                   ///< loss at the horizon: noise-free (synthetic) or reached (real)
};

/// Shape and noise of one synthetic kind. Curves are c + a exp(-r t) (or, when `power_law`, the
/// power law c + a (1 + r t / k)^-k with exponent k, which the exponential misses), times
/// (1 + noise N(0,1)), with a fraction of points multiplied by U[1.5, 3] (loss spikes).
struct SyntheticKind {
  std::string name;
  numerics::SeriesKind series_kind;
  double rate_min, rate_max;  ///< decay rate times the window length (the power law's initial rate)
  double noise;               ///< relative Gaussian noise
  double spike_fraction;
  bool power_law = false;
  double exponent_min = 1, exponent_max = 1;  ///< the power law's exponent k, drawn when they differ
  int points_min = 0, points_max = 0;         ///< validation points, drawn when set (else 16)
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
      // Few validation points of a slowly decaying curve, as a gradient-boosting trainer evaluates.
      {"val power-law 1%", SeriesKind::val, 1.0, 5.0, 0.01, 0.0, true, 0.5, 1.0, 15, 20},
  };
}

/// `count` series of each synthetic kind: training windows are steps 1..100, validation windows 16
/// evaluations every 6 steps (or `points_min`..`points_max` of them); the horizon is 10x the window
/// (step 1000 for the fixed windows). Deterministic in `seed`; a kind draws only what it uses, so
/// adding a kind at the end leaves the series of the others as they were.
inline std::vector<CorpusSeries> synthetic_corpus(std::uint64_t seed, int count) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> gaussian(0.0, 1.0);
  const auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * unit(random); };
  std::vector<CorpusSeries> corpus;
  for (const SyntheticKind& kind : synthetic_kinds()) {
    const bool train = kind.series_kind == numerics::SeriesKind::train;
    const double spacing = train ? 1 : 6;
    for (int i = 0; i < count; ++i) {
      const double points = kind.points_max > 0 ? std::floor(uniform(kind.points_min, kind.points_max + 1.0)) : 0;
      const double window = points > 0 ? points * spacing : train ? 100 : 96;
      const double horizon = points > 0 ? 10 * window : 1000;
      const double c = uniform(0.3, 2.0), a = uniform(0.3, 2.0);
      const double rate = uniform(kind.rate_min, kind.rate_max) / window;
      const double exponent = kind.exponent_max > kind.exponent_min ? uniform(kind.exponent_min, kind.exponent_max)
                                                                     : kind.exponent_min;
      const auto curve = [&](double t) {
        return kind.power_law ? c + a * std::pow(1 + t * rate / exponent, -exponent) : c + a * std::exp(-rate * t);
      };
      CorpusSeries series{kind.name, kind.series_kind, {}, {}, horizon, curve(horizon)};
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

/// One data row of the exporter's CSV files: where it stands, for errors, and its fields.
struct CsvRow {
  std::string where;
  std::vector<std::string> fields;
};

/// The rows of `in` after its header line, blank lines skipped, split at commas (the exporter quotes
/// nothing). Throws std::runtime_error on a row without the fields of `columns` (a header, e.g.
/// "series_id,kind,step") or whose second field, the kind, is not train or val.
inline std::vector<CsvRow> exporter_rows(std::istream& in, const std::string& file, const std::string& columns) {
  const auto count = static_cast<std::size_t>(std::count(columns.begin(), columns.end(), ',') + 1);
  std::vector<CsvRow> rows;
  std::string line;
  std::getline(in, line);  // header
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    CsvRow row{file + " row " + std::to_string(number), {}};
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, ',');) row.fields.push_back(field);
    if (row.fields.size() != count || (row.fields[1] != "train" && row.fields[1] != "val")) {
      throw std::runtime_error(row.where + ": expected " + columns + " with kind train or val");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

/// The whole of `text` as a number (nan and inf included); throws std::runtime_error naming `where`.
inline double parse_number(const std::string& text, const std::string& where) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size()) throw std::runtime_error(where + ": not a number: '" + text + "'");
  return value;
}

/// Real probe series of the PyTorch example trainer, as scripts/trainers/export_loss_series.py writes
/// them (its docstring has the format): `series` holds `series_id,kind,lr,step,loss` rows, `truth` one
/// `series_id,kind,lr,start_step,probe_steps,horizon,truth` row per series, both after a header line.
/// Each truth row becomes one series of kind "torch <train|val>", with its steps and losses in file
/// order and the loss reached at the horizon as truth; losses and truths may be nan or inf (a diverged
/// LR), kept as read. Throws std::runtime_error naming the row on a malformed row, a truth row without
/// series rows, or series rows without a truth row.
inline std::vector<CorpusSeries> load_torch_corpus(std::istream& series, std::istream& truth) {
  struct Points {
    std::vector<double> steps, losses;
    bool used = false;
  };
  std::map<std::pair<std::string, std::string>, Points> points;  // by (series_id, kind)
  for (const CsvRow& row : exporter_rows(series, "series", "series_id,kind,lr,step,loss")) {
    Points& series_points = points[{row.fields[0], row.fields[1]}];
    series_points.steps.push_back(parse_number(row.fields[3], row.where));
    series_points.losses.push_back(parse_number(row.fields[4], row.where));
  }
  std::vector<CorpusSeries> corpus;
  for (const CsvRow& row : exporter_rows(truth, "truth", "series_id,kind,lr,start_step,probe_steps,horizon,truth")) {
    const auto found = points.find({row.fields[0], row.fields[1]});
    if (found == points.end()) throw std::runtime_error(row.where + ": no series rows for this series_id and kind");
    found->second.used = true;
    const bool train = row.fields[1] == "train";
    corpus.push_back({"torch " + row.fields[1], train ? numerics::SeriesKind::train : numerics::SeriesKind::val,
                      found->second.steps, found->second.losses, parse_number(row.fields[5], row.where),
                      parse_number(row.fields[6], row.where)});
  }
  for (const auto& [key, series_points] : points) {
    if (!series_points.used) throw std::runtime_error("series " + key.first + " " + key.second + " has no truth row");
  }
  return corpus;
}

/// load_torch_corpus on the two files; throws std::runtime_error when one cannot be opened.
inline std::vector<CorpusSeries> load_torch_corpus(const std::filesystem::path& series_csv,
                                                   const std::filesystem::path& truth_csv) {
  std::ifstream series(series_csv), truth(truth_csv);
  if (!series) throw std::runtime_error("cannot open " + series_csv.string());
  if (!truth) throw std::runtime_error("cannot open " + truth_csv.string());
  return load_torch_corpus(series, truth);
}

}  // namespace autolrs::testing
