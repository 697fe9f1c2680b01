#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/forecaster.hpp"

namespace {

using autolrs::numerics::CurveShape;
using autolrs::numerics::forecast_loss;
using autolrs::numerics::Forecast;
using autolrs::numerics::ForecastFamily;
using autolrs::numerics::ForecastStatus;
using autolrs::numerics::SeriesKind;

std::vector<double> range_steps(int count, double first = 1, double spacing = 1) {
  std::vector<double> steps;
  for (int i = 0; i < count; ++i) steps.push_back(first + i * spacing);
  return steps;
}

std::vector<double> exponential(const std::vector<double>& steps, double a, double b, double c) {
  std::vector<double> losses;
  for (double t : steps) losses.push_back(a * std::exp(b * t) + c);
  return losses;
}

/// a (t + t0)^b + c at each step.
std::vector<double> power_law(const std::vector<double>& steps, double a, double b, double t0, double c) {
  std::vector<double> losses;
  for (double t : steps) losses.push_back(a * std::pow(t + t0, b) + c);
  return losses;
}

bool all_finite(const Forecast& f) {
  return std::isfinite(f.prediction) && std::isfinite(f.a) && std::isfinite(f.b) && std::isfinite(f.c) &&
         std::isfinite(f.t0) && std::isfinite(f.residual_scale) && std::isfinite(f.prediction_std) &&
         f.power_law_weight >= 0 && f.power_law_weight <= 1;
}

}  // namespace

TEST_CASE("numerics::forecast_loss recovers a, b, c of clean exponentials to 1e-6 relative") {
  struct Case {
    double a, b, c, first, spacing;
    int count;
    SeriesKind kind;
  };
  const Case cases[] = {
      {1.5, -0.02, 0.8, 1, 1, 100, SeriesKind::train},   {0.7, -0.05, 2.0, 1, 1, 100, SeriesKind::train},
      {3.0, -0.004, 0.1, 1, 1, 1000, SeriesKind::train}, {1.0, -0.01, 0.5, 6, 6, 16, SeriesKind::val},
      {2.0, -0.3, 1.0, 0, 0.25, 40, SeriesKind::train},  {0.5, -0.03, 1.2, 1, 20, 3, SeriesKind::val},
  };
  for (const Case& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CAPTURE(c.count);
    const std::vector<double> steps = range_steps(c.count, c.first, c.spacing);
    const Forecast f = forecast_loss(steps, exponential(steps, c.a, c.b, c.c), 1000, c.kind);
    REQUIRE(f.status == ForecastStatus::ok);
    CHECK(f.a == doctest::Approx(c.a).epsilon(1e-6));
    CHECK(f.b == doctest::Approx(c.b).epsilon(1e-6));
    CHECK(f.c == doctest::Approx(c.c).epsilon(1e-6));
    CHECK(f.prediction == doctest::Approx(c.a * std::exp(c.b * 1000) + c.c).epsilon(1e-6));
    CHECK(f.points_used == c.count);
  }
}

TEST_CASE("numerics::forecast_loss gives clean exponentials no power-law weight, so both families agree") {
  for (SeriesKind kind : {SeriesKind::train, SeriesKind::val}) {
    CAPTURE(static_cast<int>(kind));
    const std::vector<double> steps = range_steps(kind == SeriesKind::train ? 100 : 16, 6, 6);
    const std::vector<double> losses = exponential(steps, 1.2, -0.01, 0.7);
    const Forecast either = forecast_loss(steps, losses, 1000, kind);
    const Forecast exponential_only = forecast_loss(steps, losses, 1000, kind, ForecastFamily::exponential);
    CHECK(either.power_law_weight == 0);
    CHECK(either.shape == CurveShape::exponential);
    CHECK(either.prediction == exponential_only.prediction);
    CHECK(either.prediction_std == exponential_only.prediction_std);
  }
}

TEST_CASE("numerics::forecast_loss extrapolates a clean power law that the exponential family misses") {
  // a (t + t0)^b + c over steps 1..200, forecast at 2000. The fit's offset is one of a grid (and the
  // series is fitted on 128 bin medians), so it is close, not exact; the exponential levels off
  // near the window's end instead.
  const std::vector<double> steps = range_steps(200);
  const double a = 4, b = -0.7, t0 = 30, c = 0.5;
  const std::vector<double> losses = power_law(steps, a, b, t0, c);
  const double truth = a * std::pow(2000 + t0, b) + c;
  const Forecast f = forecast_loss(steps, losses, 2000, SeriesKind::train);
  const Forecast exponential_only = forecast_loss(steps, losses, 2000, SeriesKind::train, ForecastFamily::exponential);
  REQUIRE(f.status == ForecastStatus::ok);
  CHECK(f.power_law_weight > 0.999);
  CHECK(f.shape == CurveShape::power_law);
  CHECK(f.prediction == doctest::Approx(truth).epsilon(0.01));
  CHECK(exponential_only.prediction > truth * 1.1);
  CHECK(exponential_only.power_law_weight == 0);
  // The reported curve reproduces the window: a (t + t0)^b + c at its ends.
  for (double t : {steps.front(), steps.back()}) {
    CHECK(f.a * std::pow(t + f.t0, f.b) + f.c == doctest::Approx(a * std::pow(t + t0, b) + c).epsilon(0.01));
  }
  CHECK(f.b < 0);
  CHECK(steps.front() + f.t0 > 0);
}

TEST_CASE("numerics::forecast_loss weighs a power law in few noisy validation points") {
  // 16 evaluations of a slowly decaying validation curve, 0.5% noise: the power law takes most of
  // the weight and its forecast at 10x the window is closer than the exponential's.
  std::mt19937_64 random(3);
  std::normal_distribution<double> noise(0.0, 0.005);
  const std::vector<double> steps = range_steps(16, 6, 6);
  std::vector<double> losses = power_law(steps, 6, -0.5, 10, 0.3);
  for (double& loss : losses) loss *= 1 + noise(random);
  const double truth = 6 * std::pow(960 + 10, -0.5) + 0.3;
  const Forecast f = forecast_loss(steps, losses, 960, SeriesKind::val);
  const Forecast exponential_only = forecast_loss(steps, losses, 960, SeriesKind::val, ForecastFamily::exponential);
  REQUIRE(f.status == ForecastStatus::ok);
  CHECK(f.power_law_weight > 0.5);
  CHECK(std::abs(f.prediction - truth) < 0.5 * std::abs(exponential_only.prediction - truth));
}

TEST_CASE("numerics::forecast_loss never returns NaN on random and extreme series, with either family") {
  std::mt19937_64 random(17);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    const int count = 3 + static_cast<int>(unit(random) * 60);
    const double scale = std::pow(10.0, -300 + 600 * unit(random));
    std::vector<double> steps, losses;
    for (int i = 0; i < count; ++i) {
      steps.push_back(std::pow(10.0, 6 * unit(random)) * (i + 1));
      const double shape = trial % 3 == 0 ? unit(random) : trial % 3 == 1 ? 1.0 / (i + 1) : (i % 2 ? 1 : -1);
      losses.push_back(scale * shape);
    }
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    losses.resize(steps.size());
    const double horizon = steps.back() * (unit(random) < 0.1 ? -1.0 : 10.0);
    for (ForecastFamily family : {ForecastFamily::exponential, ForecastFamily::exponential_or_power_law}) {
      CAPTURE(trial);
      const Forecast f = forecast_loss(steps, losses, horizon, trial % 2 ? SeriesKind::train : SeriesKind::val, family);
      CHECK(all_finite(f));
      if (family == ForecastFamily::exponential) CHECK(f.power_law_weight == 0);
    }
  }
}

TEST_CASE("numerics::forecast_loss ignores loss spikes in training series") {
  const std::vector<double> steps = range_steps(100);
  std::vector<double> losses = exponential(steps, 2.0, -0.03, 1.0);
  for (int i : {5, 17, 40, 71, 90}) losses[static_cast<std::size_t>(i)] *= 3;
  const Forecast f = forecast_loss(steps, losses, 1000, SeriesKind::train);
  REQUIRE(f.status == ForecastStatus::ok);
  CHECK(f.prediction == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(f.b == doctest::Approx(-0.03).epsilon(1e-6));
  CHECK(f.points_used == 95);
}

TEST_CASE("numerics::forecast_loss reports the noise and a prediction spread that grows with the horizon") {
  std::mt19937_64 random(7);
  std::normal_distribution<double> noise(0.0, 0.05);
  const std::vector<double> steps = range_steps(200);
  std::vector<double> losses = exponential(steps, 1.0, -0.02, 1.0);
  for (double& loss : losses) loss += noise(random);
  const Forecast near = forecast_loss(steps, losses, 250, SeriesKind::train);
  const Forecast far = forecast_loss(steps, losses, 2000, SeriesKind::train);
  REQUIRE(near.status == ForecastStatus::ok);
  CHECK(near.residual_scale == doctest::Approx(0.05).epsilon(0.2));
  CHECK(near.prediction_std > 0);
  CHECK(far.prediction_std > near.prediction_std);
  CHECK(std::abs(far.prediction - 1.0) < 3 * far.prediction_std + 0.02);
}

TEST_CASE("numerics::forecast_loss gives a defined, finite answer on degenerate series") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::string name;
    std::vector<double> losses;
    ForecastStatus status;
    double prediction;
  };
  const Case cases[] = {
      {"flat", std::vector<double>(50, 2.5), ForecastStatus::ok, 2.5},
      {"rising", {1, 1.2, 1.5, 2, 2.8, 4, 6, 9, 14, 20}, ForecastStatus::diverged, 17},  // last fifth's median
      {"nan inside", {3, 2.5, nan, 2, 1.9}, ForecastStatus::diverged, 3},
      {"inf at the end", {3, 2.5, 2.2, inf}, ForecastStatus::diverged, 3},
      {"all nan", {nan, nan, nan}, ForecastStatus::diverged, 0},
      {"two points", {3, 2}, ForecastStatus::insufficient, 2},
      {"one point", {3}, ForecastStatus::insufficient, 3},
      {"empty", {}, ForecastStatus::insufficient, 0},
      {"three points, exact", {3, 2, 1.5}, ForecastStatus::ok, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const std::vector<double> steps = range_steps(static_cast<int>(c.losses.size()), 0);
    const Forecast f = forecast_loss(steps, c.losses, 100, SeriesKind::train);
    CHECK(f.status == c.status);
    CHECK(all_finite(f));
    CHECK(f.prediction == doctest::Approx(c.prediction).epsilon(1e-9));
  }
}

TEST_CASE("numerics::forecast_loss fits a million points") {
  std::mt19937_64 random(11);
  std::normal_distribution<double> noise(0.0, 0.1);
  const std::vector<double> steps = range_steps(1'000'000);
  std::vector<double> losses = exponential(steps, 2.0, -3e-6, 0.5);
  for (double& loss : losses) loss += noise(random);
  const Forecast f = forecast_loss(steps, losses, 1e7, SeriesKind::train);
  REQUIRE(f.status == ForecastStatus::ok);
  CHECK(f.b == doctest::Approx(-3e-6).epsilon(0.02));
  CHECK(f.prediction == doctest::Approx(0.5).epsilon(0.01));
  CHECK(f.residual_scale == doctest::Approx(0.1).epsilon(0.02));
}

TEST_CASE("numerics::forecast_loss rejects misuse of its arguments") {
  const std::vector<double> losses{3, 2, 1.5};
  CHECK_THROWS_AS(forecast_loss({1, 2}, losses, 10, SeriesKind::train), std::invalid_argument);
  CHECK_THROWS_AS(forecast_loss({1, 3, 2}, losses, 10, SeriesKind::train), std::invalid_argument);
  CHECK_THROWS_AS(forecast_loss({1, 1, 2}, losses, 10, SeriesKind::train), std::invalid_argument);
  CHECK_THROWS_AS(forecast_loss({1, 2, 3}, losses, std::nan(""), SeriesKind::train), std::invalid_argument);
}

TEST_CASE("numerics::to_string names every forecast status and curve shape") {
  CHECK(std::string(to_string(ForecastStatus::ok)) == "ok");
  CHECK(std::string(to_string(ForecastStatus::diverged)) == "diverged");
  CHECK(std::string(to_string(ForecastStatus::insufficient)) == "insufficient");
  CHECK(std::string(to_string(CurveShape::exponential)) == "exponential");
  CHECK(std::string(to_string(CurveShape::power_law)) == "power_law");
}
