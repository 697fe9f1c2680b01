#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "numerics/forecast_corpus.hpp"
#include "numerics/reference_autolrs_forecaster.hpp"

namespace {

using autolrs::numerics::ForecastStatus;
using autolrs::numerics::SeriesKind;
using autolrs::testing::CorpusSeries;

struct ErrorSummary {
  int series = 0, failures = 0;
  std::vector<double> relative_errors, signed_errors;

  /// The q-quantile (nearest rank) of the relative errors, a failure counting as an infinite error:
  /// a forecast not given is the worst one, so a method is not judged on the series it answers only.
  double quantile(double q) const { return nearest_rank(relative_errors, q); }
  /// Median signed relative error: > 0 over-predicts the loss, < 0 under-predicts it.
  double bias() const { return nearest_rank(signed_errors, 0.5); }
  double failure_rate() const { return series ? static_cast<double>(failures) / series : 0; }
  void add(bool failed, double prediction, double truth) {
    ++series;
    if (failed) {
      ++failures;
      relative_errors.push_back(INFINITY);
    } else {
      relative_errors.push_back(std::abs(prediction - truth) / std::abs(truth));
      signed_errors.push_back((prediction - truth) / std::abs(truth));
    }
  }

 private:
  static double nearest_rank(std::vector<double> values, double q) {
    if (values.empty()) return INFINITY;
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5)];
  }
};

struct KindSummary {
  ErrorSummary ours, baseline;
  int spline_inexact = 0;
};

/// Whether the search observes this forecast (src/search/autolrs_search.cpp): a fit, or the level a
/// finite series rose to. Anything else (too few points, NaN/inf in the series) is a failure.
bool observed(const autolrs::numerics::Forecast& forecast, const std::vector<double>& losses) {
  if (forecast.status == ForecastStatus::ok) return true;
  return forecast.status == ForecastStatus::diverged &&
         std::all_of(losses.begin(), losses.end(), [](double loss) { return std::isfinite(loss); });
}

std::map<std::string, KindSummary> evaluate(const std::vector<CorpusSeries>& corpus) {
  std::map<std::string, KindSummary> summaries;
  for (const CorpusSeries& series : corpus) {
    KindSummary& summary = summaries[series.kind];
    const auto ours = autolrs::numerics::forecast_loss(series.steps, series.losses, series.horizon, series.series_kind);
    summary.ours.add(!observed(ours, series.losses), ours.prediction, series.truth);
    // The original indexes points 0..n-1, so the horizon is counted in evaluation intervals.
    const double spacing = series.steps.size() > 1 ? series.steps[1] - series.steps[0] : 1;
    const double pred_index = (series.horizon - series.steps.front()) / spacing;
    const auto baseline = autolrs::testing::reference::baseline_forecast(series.losses, pred_index,
                                                                         series.series_kind == SeriesKind::train);
    summary.baseline.add(!baseline.prediction, baseline.prediction.value_or(0), series.truth);
    summary.spline_inexact += baseline.spline_exact ? 0 : 1;
  }
  return summaries;
}

std::string table(const std::map<std::string, KindSummary>& summaries) {
  std::string text =
      "kind                     | ours: median    p90   bias   fail | original: median    p90   bias   fail\n";
  char row[240];
  for (const auto& [kind, summary] : summaries) {
    std::snprintf(row, sizeof row,
                  "%-24s |     %7.2f%% %6.1f%% %+6.1f%% %5.1f%% |         %7.2f%% %6.1f%% %+6.1f%% %5.1f%%\n",
                  kind.c_str(), 100 * summary.ours.quantile(0.5), 100 * summary.ours.quantile(0.9),
                  100 * summary.ours.bias(), 100 * summary.ours.failure_rate(), 100 * summary.baseline.quantile(0.5),
                  100 * summary.baseline.quantile(0.9), 100 * summary.baseline.bias(),
                  100 * summary.baseline.failure_rate());
    text += row;
  }
  return text;
}

}  // namespace

TEST_CASE("numerics::forecast_loss beats the original AutoLRS forecaster at 10x the window on every kind") {
  // Guards per kind: ours at most {median, p90} relative error (measured, with headroom), and a
  // median and a p90 below the original's. On the power-law kinds an exponential alone over-predicts
  // (bias +19%, +20%: it levels off where the curve keeps falling); the power law's weight, as large
  // as the window's evidence for it, takes most of that away. The other kinds pay for it a little:
  // noisy exponentials give the power law some weight by chance.
  struct Guard {
    double median, p90;
  };
  const std::map<std::string, Guard> guards = {
      {"train fast 2%", {0.006, 0.02}},      {"train medium 2%", {0.025, 0.09}},
      {"train slow 2%", {0.15, 0.40}},       {"train medium 10%", {0.12, 0.45}},
      {"train slow 10%", {0.27, 0.70}},      {"train medium 5% spikes", {0.07, 0.25}},
      {"train power-law 2%", {0.13, 0.34}},  {"val medium 1%", {0.025, 0.12}},
      {"val slow 1%", {0.16, 0.50}},         {"val power-law 1%", {0.18, 0.42}},
  };
  const auto summaries = evaluate(autolrs::testing::synthetic_corpus(20260101, 200));
  MESSAGE("forecast accuracy, 200 synthetic series per kind, horizon 10x the window:\n" << table(summaries));
  REQUIRE(summaries.size() == guards.size());
  for (const auto& [kind, summary] : summaries) {
    CAPTURE(kind);
    const Guard& guard = guards.at(kind);
    // The quadratic stand-in for the spline is exact except on at most one series (3x spikes).
    CHECK(summary.spline_inexact <= 1);
    CHECK(summary.ours.failures == 0);
    CHECK(summary.ours.quantile(0.5) <= guard.median);
    CHECK(summary.ours.quantile(0.9) <= guard.p90);
    CHECK(summary.ours.quantile(0.5) < summary.baseline.quantile(0.5));
    CHECK(summary.ours.quantile(0.9) < summary.baseline.quantile(0.9));
  }
  // Across the noisy kinds the original fails to give a finite forecast on some series.
  CHECK(summaries.at("train slow 10%").baseline.failures > 0);
  CHECK(summaries.at("train medium 5% spikes").baseline.failures > 0);
}

TEST_CASE("numerics::forecast_loss beats the original AutoLRS forecaster on real PyTorch probe series") {
  // tests/numerics/data, written by scripts/trainers/export_loss_series.py: the probes of the four
  // stages of configs/torch-example.json at 8 LRs, each forecast at the stage's end (10x its probe
  // window) and judged against the loss that LR actually reached there. The LR that diverges to NaN
  // (100) has no loss at the horizon to compare with: its series are left out, and counted.
  const std::filesystem::path data = std::filesystem::path(AUTOLRS_SOURCE_DIR) / "tests" / "numerics" / "data";
  const auto all = autolrs::testing::load_torch_corpus(data / "torch_series.csv", data / "torch_truth.csv");
  std::vector<CorpusSeries> corpus;
  std::copy_if(all.begin(), all.end(), std::back_inserter(corpus),
               [](const CorpusSeries& series) { return std::isfinite(series.truth); });
  CHECK(all.size() == 64);
  CHECK(all.size() - corpus.size() == 8);  // lr 100, train and val, 4 stages

  // Guards: ours at most {median, p90} (measured, with headroom), and a median and a p90 below the
  // original's. Training series whose loss later collapses or rises (the truth up to 1000x away from
  // the window's level) make any 10x forecast's p90 large: the p90 guard keeps ours from getting
  // worse there. On val series most windows of the later stages are flat and both forecast about
  // their level: the medians are within about two points (the original's 2 failures of 28 count as
  // its worst errors); ours has no failure and a p90 a tenth of the original's.
  struct Guard {
    double median, p90;
  };
  const std::map<std::string, Guard> guards = {
      {"torch train", {0.50, 13.0}},
      {"torch val", {0.14, 1.0}},
  };
  const auto summaries = evaluate(corpus);
  MESSAGE("forecast accuracy on " << corpus.size() << " real probe series of the PyTorch example trainer:\n"
                                  << table(summaries));
  REQUIRE(summaries.size() == guards.size());
  for (const auto& [kind, summary] : summaries) {
    CAPTURE(kind);
    const Guard& guard = guards.at(kind);
    CHECK(summary.ours.failures == 0);  // so never where the original answers
    CHECK(summary.ours.quantile(0.5) <= guard.median);
    CHECK(summary.ours.quantile(0.9) <= guard.p90);
    CHECK(summary.ours.quantile(0.5) < summary.baseline.quantile(0.5));
    CHECK(summary.ours.quantile(0.9) < summary.baseline.quantile(0.9));
  }
}

TEST_CASE("testing::load_torch_corpus reads the exporter's files and rejects malformed rows") {
  std::istringstream series(
      "series_id,kind,lr,step,loss\n"
      "s0-lr0.1,train,0.1,1,2.5\r\n"
      "s0-lr0.1,val,0.1,5,2.4\n"
      "s0-lr0.1,train,0.1,2,nan\n"
      "\n");
  std::istringstream truth(
      "series_id,kind,lr,start_step,probe_steps,horizon,truth\n"
      "s0-lr0.1,train,0.1,0,20,200,inf\n"
      "s0-lr0.1,val,0.1,0,20,200,0.5\n");
  const auto corpus = autolrs::testing::load_torch_corpus(series, truth);
  REQUIRE(corpus.size() == 2);
  CHECK(corpus[0].kind == "torch train");
  CHECK(corpus[0].series_kind == SeriesKind::train);
  CHECK(corpus[0].steps == std::vector<double>{1, 2});
  CHECK(corpus[0].losses[0] == 2.5);
  CHECK(std::isnan(corpus[0].losses[1]));
  CHECK(corpus[0].horizon == 200);
  CHECK(std::isinf(corpus[0].truth));
  CHECK(corpus[1].kind == "torch val");
  CHECK(corpus[1].series_kind == SeriesKind::val);
  CHECK(corpus[1].steps == std::vector<double>{5});
  CHECK(corpus[1].truth == 0.5);

  const std::string series_header = "series_id,kind,lr,step,loss\n";
  const std::string truth_header = "series_id,kind,lr,start_step,probe_steps,horizon,truth\n";
  const auto load = [](const std::string& series_text, const std::string& truth_text) {
    std::istringstream series_stream(series_text), truth_stream(truth_text);
    return autolrs::testing::load_torch_corpus(series_stream, truth_stream);
  };
  const std::string good_truth = truth_header + "a,train,1,0,20,200,1\n";
  CHECK_THROWS_AS(load(series_header + "a,train,1,1\n", good_truth), std::runtime_error);         // 4 fields
  CHECK_THROWS_AS(load(series_header + "a,test,1,1,2\n", good_truth), std::runtime_error);       // kind
  CHECK_THROWS_AS(load(series_header + "a,train,1,1,2x\n", good_truth), std::runtime_error);     // junk
  CHECK_THROWS_AS(load(series_header + "a,train,1,1,2\n", truth_header), std::runtime_error);    // no truth
  CHECK_THROWS_AS(load(series_header, good_truth), std::runtime_error);                          // no series
  CHECK_THROWS_AS(autolrs::testing::load_torch_corpus("/nonexistent/series.csv", "/nonexistent/truth.csv"),
                  std::runtime_error);
}
