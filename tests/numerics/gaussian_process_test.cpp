#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "numerics/gaussian_process.hpp"

namespace {

using autolrs::numerics::GaussianProcess;
using autolrs::numerics::GpHyperparameters;

}  // namespace

TEST_CASE("numerics::matern52 matches its closed form") {
  CHECK(autolrs::numerics::matern52(0.0, 0.3, 2.0) == doctest::Approx(2.0));
  // At distance l: s = sqrt(5), k = sigma_f^2 (1 + sqrt(5) + 5/3) exp(-sqrt(5)).
  CHECK(autolrs::numerics::matern52(0.3, 0.3, 2.0) ==
        doctest::Approx(2.0 * (1 + std::sqrt(5.0) + 5.0 / 3) * std::exp(-std::sqrt(5.0))));
  CHECK(autolrs::numerics::matern52(0.6, 0.3, 1.0) < autolrs::numerics::matern52(0.3, 0.3, 1.0));
}

TEST_CASE("numerics::GaussianProcess interpolates noise-free points with near-zero variance there") {
  const std::vector<double> x{0.0, 0.2, 0.45, 0.7, 1.0}, y{3.0, 1.0, 0.5, 1.5, 4.0};
  GaussianProcess gp;
  gp.condition(x, y, std::vector<double>(x.size(), 0.0), {std::log(0.3), 0.0, std::log(1e-10)});
  for (std::size_t i = 0; i < x.size(); ++i) {
    const GaussianProcess::Prediction prediction = gp.predict(x[i]);
    CHECK(prediction.mean == doctest::Approx(y[i]).epsilon(1e-6));
    CHECK(prediction.variance < 1e-6);
  }
  CHECK(gp.predict(0.85).variance > 1e-3);
}

TEST_CASE("numerics::GaussianProcess log marginal likelihood matches the closed form for one point") {
  // One point, standardized to 0: log p = -log(2 pi (sigma_f^2 + sigma_n^2)) / 2.
  GaussianProcess gp;
  gp.condition({0.4}, {7.0}, {0.0}, {std::log(0.3), std::log(1.5), std::log(0.5)});
  CHECK(gp.log_marginal_likelihood(gp.hyperparameters()).value ==
        doctest::Approx(-0.5 * std::log(2 * M_PI * 2.0)));
}

TEST_CASE("numerics::GaussianProcess log marginal likelihood gradient matches central finite differences") {
  const std::vector<double> x{0.05, 0.3, 0.32, 0.6, 0.81, 0.97}, y{2.0, 1.1, 1.0, 0.7, 1.4, 2.6};
  GaussianProcess gp;
  gp.condition(x, y, {0.0, 0.01, 0.0, 0.02, 0.0, 0.0}, {});
  for (const GpHyperparameters& theta : {GpHyperparameters{std::log(0.2), 0.3, std::log(1e-3)},
                                         GpHyperparameters{std::log(0.8), -0.5, std::log(0.1)},
                                         GpHyperparameters{std::log(0.05), 1.0, std::log(1e-5)}}) {
    const auto analytic = gp.log_marginal_likelihood(theta);
    for (int j = 0; j < 3; ++j) {
      CAPTURE(j);
      const double h = 1e-5;
      auto plus = theta.as_array(), minus = theta.as_array();
      plus[static_cast<std::size_t>(j)] += h;
      minus[static_cast<std::size_t>(j)] -= h;
      const double numeric = (gp.log_marginal_likelihood(GpHyperparameters::from_array(plus)).value -
                              gp.log_marginal_likelihood(GpHyperparameters::from_array(minus)).value) / (2 * h);
      CHECK(analytic.gradient[static_cast<std::size_t>(j)] == doctest::Approx(numeric).epsilon(1e-5));
    }
  }
}

TEST_CASE("numerics::GaussianProcess fit raises the likelihood above its starting point and stays in bounds") {
  const std::vector<double> x{0.0, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0};
  std::vector<double> y;
  for (double v : x) y.push_back(std::sin(6 * v) + 0.3 * v);
  GaussianProcess gp;
  gp.fit(x, y, std::vector<double>(x.size(), 0.0));
  const autolrs::numerics::GpBounds bounds;
  const auto fitted = gp.hyperparameters().as_array();
  for (int j = 0; j < 3; ++j) {
    CHECK(fitted[static_cast<std::size_t>(j)] >= bounds.lower[static_cast<std::size_t>(j)]);
    CHECK(fitted[static_cast<std::size_t>(j)] <= bounds.upper[static_cast<std::size_t>(j)]);
  }
  CHECK(gp.log_marginal_likelihood(gp.hyperparameters()).value >
        gp.log_marginal_likelihood(GpHyperparameters{}).value);
  CHECK(gp.predict(0.33).mean == doctest::Approx(std::sin(6 * 0.33) + 0.3 * 0.33).epsilon(0.1));
}

TEST_CASE("numerics::GaussianProcess adds jitter when points coincide") {
  GaussianProcess gp;
  gp.condition({0.5, 0.5, 0.2}, {1.0, 1.0, 2.0}, {0.0, 0.0, 0.0}, {std::log(0.3), 0.0, -60.0});
  CHECK(gp.jitter() > 0);
  CHECK(gp.predict(0.5).mean == doctest::Approx(1.0).epsilon(1e-4));
}

TEST_CASE("numerics::GaussianProcess rejects empty or non-finite data") {
  GaussianProcess gp;
  CHECK_THROWS_AS(gp.fit({}, {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(gp.fit({0.1}, {NAN}, {0.0}), std::invalid_argument);
  CHECK_THROWS_AS(gp.fit({0.1, 0.2}, {1.0}, {0.0}), std::invalid_argument);
}
