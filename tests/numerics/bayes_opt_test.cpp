#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/acquisition.hpp"
#include "numerics/bayes_opt.hpp"

namespace {

using autolrs::numerics::Acquisition;
using autolrs::numerics::BayesOpt;
using autolrs::numerics::BayesOptConfig;
using autolrs::numerics::lr_to_x;
using autolrs::numerics::x_to_lr;

BayesOptConfig config_with(Acquisition acquisition, double kappa = 2.0) {
  BayesOptConfig config;
  config.lr_min = 1e-4;
  config.lr_max = 1.0;
  config.acquisition = acquisition;
  config.kappa = kappa;
  return config;
}

double min_distance(double x, const std::vector<double>& others) {
  double distance = std::numeric_limits<double>::infinity();
  for (double other : others) distance = std::min(distance, std::abs(x - other));
  return distance;
}

}  // namespace

TEST_CASE("numerics::lr_to_x and x_to_lr map log(LR) onto [0, 1] and back") {
  const BayesOptConfig config = config_with(Acquisition::expected_improvement);
  CHECK(lr_to_x(config, 1e-4) == doctest::Approx(0.0));
  CHECK(lr_to_x(config, 1e-2) == doctest::Approx(0.5));
  CHECK(x_to_lr(config, 0.0) == 1e-4);
  CHECK(x_to_lr(config, 1.0) == 1.0);
  CHECK(x_to_lr(config, 0.25) == doctest::Approx(1e-3));
}

TEST_CASE("numerics::acquisition_value matches the closed forms of LCB and EI") {
  CHECK(autolrs::numerics::acquisition_value(Acquisition::lower_confidence_bound, 2.0, 1.0, 0.25, 0.0) ==
        doctest::Approx(0.0));  // -(1 - 2 * 0.5)
  // EI at mu = y_best with sigma = 1 is phi(0) = 1 / sqrt(2 pi).
  CHECK(autolrs::numerics::acquisition_value(Acquisition::expected_improvement, 0, 1.0, 1.0, 1.0) ==
        doctest::Approx(1 / std::sqrt(2 * M_PI)));
  CHECK(autolrs::numerics::acquisition_value(Acquisition::expected_improvement, 0, 1.0, 0.0, 1.5) ==
        doctest::Approx(0.5));
  CHECK(autolrs::numerics::acquisition_value(Acquisition::expected_improvement, 0, 2.0, 0.0, 1.5) == 0.0);
}

TEST_CASE("numerics::BayesOpt first proposal is the seeded golden-ratio design and is deterministic") {
  const BayesOptConfig config = config_with(Acquisition::expected_improvement);
  BayesOpt first(config, 42), same(config, 42), other(config, 43);
  const double x0 = lr_to_x(config, first.ask());
  CHECK(x0 == doctest::Approx(lr_to_x(config, same.ask())).epsilon(1e-12));
  CHECK(std::abs(x0 - lr_to_x(config, other.ask())) > 1e-6);
  // The next design point (no observations yet) is x0 + 1/phi modulo 1.
  const double x1 = lr_to_x(config, first.ask());
  CHECK(x1 == doctest::Approx(std::fmod(x0 + 0.6180339887498949, 1.0)).epsilon(1e-9));
  CHECK(first.state().proposals == 2);
}

TEST_CASE("numerics::BayesOpt finds the minimum of smooth 1-D functions of log(LR) within 10 evaluations") {
  struct Case {
    std::string name;
    Acquisition acquisition;
    double kappa;
    std::function<double(double)> objective;  // of x in [0, 1]
    double x_star;
    double tolerance;  ///< in x: directed acquisitions get close; pure uncertainty sampling only fills
                       ///< gaps, so its best of 10 points is within about half their spacing
  };
  const Case cases[] = {
      {"quadratic, EI", Acquisition::expected_improvement, 2.0, [](double x) { return std::pow(x - 0.3, 2); }, 0.3, 0.05},
      {"asymmetric valley, EI", Acquisition::expected_improvement, 2.0,
       [](double x) { return std::exp(3 * (x - 0.7)) - 3 * (x - 0.7); }, 0.7, 0.05},
      {"cosine bump, LCB", Acquisition::lower_confidence_bound, 2.0,
       [](double x) { return 1 - std::cos(4 * (x - 0.55)) + 0.1 * x; }, 0.55, 0.05},
      {"quadratic, LCB kappa 1e6 then best observed", Acquisition::lower_confidence_bound, 1e6,
       [](double x) { return std::pow(x - 0.62, 2); }, 0.62, 0.1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const BayesOptConfig config = config_with(c.acquisition, c.kappa);
    BayesOpt optimizer(config, 5);
    for (int evaluation = 0; evaluation < 10; ++evaluation) {
      const double lr = optimizer.ask();
      optimizer.tell(lr, c.objective(lr_to_x(config, lr)));
    }
    REQUIRE(optimizer.best_observed_lr().has_value());
    CHECK(std::abs(lr_to_x(config, *optimizer.best_observed_lr()) - c.x_star) < c.tolerance);
  }
}

TEST_CASE("numerics::BayesOpt never proposes an evaluated LR") {
  BayesOptConfig config = config_with(Acquisition::expected_improvement);
  config.min_separation = 0.05;
  BayesOpt optimizer(config, 1);
  std::vector<double> evaluated;
  for (int evaluation = 0; evaluation < 12; ++evaluation) {
    const double x = lr_to_x(config, optimizer.ask());
    CHECK(min_distance(x, evaluated) >= 0.05 - 1e-12);
    evaluated.push_back(x);
    optimizer.tell(x_to_lr(config, x), std::pow(x - 0.4, 2));  // a sharp optimum that attracts proposals
  }
}

TEST_CASE("numerics::BayesOpt observes failures as a finite penalty and explores away from them") {
  const BayesOptConfig config = config_with(Acquisition::expected_improvement);
  SUBCASE("failures only: the midpoint of the widest gap") {
    BayesOpt optimizer(config, 3);
    optimizer.tell_failure(x_to_lr(config, 0.9));
    CHECK(lr_to_x(config, optimizer.ask()) == doctest::Approx(0.45));
    optimizer.tell_failure(x_to_lr(config, 0.45));
    CHECK(lr_to_x(config, optimizer.ask()) == doctest::Approx(0.225));
    CHECK_FALSE(optimizer.best_observed_lr().has_value());
    const auto curve = optimizer.posterior(5);
    REQUIRE(curve.size() == 5);
    for (const auto& point : curve) CHECK(std::isfinite(point.mean));
  }
  SUBCASE("with successes: the penalty is worst plus max(range, 10% |worst|, 1e-3)") {
    BayesOpt optimizer(config, 3);
    optimizer.tell(x_to_lr(config, 0.2), 2.0);
    optimizer.tell(x_to_lr(config, 0.5), 1.0);
    optimizer.tell_failure(x_to_lr(config, 0.95));
    optimizer.tell(x_to_lr(config, 0.7), NAN);  // a non-finite value is a failure too
    CHECK(optimizer.state().observations.size() == 4);
    CHECK(optimizer.state().observations[3].failed);
    // The posterior at the failures sits near the penalty 2 + max(1, 0.2, 1e-3) = 3.
    const auto curve = optimizer.posterior(101);
    CHECK(curve[95].mean == doctest::Approx(3.0).epsilon(0.15));
    CHECK(*optimizer.best_observed_lr() == doctest::Approx(x_to_lr(config, 0.5)));
    const double next = lr_to_x(config, optimizer.ask());
    CHECK(next < 0.7);
  }
}

TEST_CASE("numerics::BayesOpt batch proposals are distinct, separated and deterministic") {
  BayesOptConfig config = config_with(Acquisition::expected_improvement);
  config.min_separation = 0.03;
  for (int observations : {0, 3}) {
    CAPTURE(observations);
    BayesOpt optimizer(config, 9), twin(config, 9);
    for (int i = 0; i < observations; ++i) {
      const double x = 0.15 + 0.3 * i;
      optimizer.tell(x_to_lr(config, x), std::pow(x - 0.5, 2));
      twin.tell(x_to_lr(config, x), std::pow(x - 0.5, 2));
    }
    const std::vector<double> batch = optimizer.ask_batch(4);
    CHECK(batch == twin.ask_batch(4));
    REQUIRE(batch.size() == 4);
    std::vector<double> taken;
    for (const auto& observation : optimizer.state().observations) taken.push_back(observation.x);
    for (double lr : batch) {
      const double x = lr_to_x(config, lr);
      CHECK(min_distance(x, taken) >= 0.03 - 1e-12);
      taken.push_back(x);
    }
    CHECK(optimizer.state().proposals == 4);
  }
}

TEST_CASE("numerics::BayesOpt restored from its state proposes exactly what the original does") {
  const BayesOptConfig config = config_with(Acquisition::lower_confidence_bound, 1e6);
  BayesOpt original(config, 77);
  for (int i = 0; i < 4; ++i) {
    const double lr = original.ask();
    original.tell(lr, std::pow(lr_to_x(config, lr) - 0.3, 2), 1e-4);
  }
  BayesOpt restored(original.state());
  CHECK(restored.ask() == original.ask());
  CHECK(restored.ask_batch(3) == original.ask_batch(3));
}

TEST_CASE("numerics::BayesOpt posterior covers the LR range log-spaced, empty before any observation") {
  const BayesOptConfig config = config_with(Acquisition::expected_improvement);
  BayesOpt optimizer(config, 1);
  CHECK(optimizer.posterior(10).empty());
  optimizer.tell(1e-3, 2.0);
  optimizer.tell(1e-1, 1.0);
  const auto curve = optimizer.posterior(3);
  REQUIRE(curve.size() == 3);
  CHECK(curve[0].lr == 1e-4);
  CHECK(curve[1].lr == doctest::Approx(1e-2));
  CHECK(curve[2].lr == 1.0);
  for (const auto& point : curve) CHECK(point.std >= 0);
}

TEST_CASE("numerics::BayesOpt rejects invalid configurations and observations") {
  BayesOptConfig config = config_with(Acquisition::expected_improvement);
  config.lr_min = 0;
  CHECK_THROWS_AS(BayesOpt(config, 1), std::invalid_argument);
  config = config_with(Acquisition::expected_improvement);
  config.lr_max = config.lr_min;
  CHECK_THROWS_AS(BayesOpt(config, 1), std::invalid_argument);
  BayesOpt optimizer(config_with(Acquisition::expected_improvement), 1);
  CHECK_THROWS_AS(optimizer.tell(-1, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(optimizer.tell(1e-3, 1.0, -1.0), std::invalid_argument);
  CHECK_THROWS_AS(optimizer.tell_failure(0), std::invalid_argument);
}
