#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
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

namespace {

/// Ten points of the unimodal curve 4 (x - 0.6)^2 at the golden-ratio design shifted by `dataset`,
/// with Gaussian noise of standard deviation `noise_sd` from a seeded generator (Box-Muller on
/// mt19937_64's output, the same on every standard library).
struct NoisyParabola {
  std::vector<double> x, y;
};
NoisyParabola noisy_parabola(int dataset, double noise_sd) {
  std::mt19937_64 generator(static_cast<std::uint64_t>(dataset));
  const auto uniform = [&] { return (static_cast<double>(generator() >> 11) + 0.5) * 0x1.0p-53; };
  NoisyParabola data;
  for (int i = 0; i < 10; ++i) {
    const double x = std::fmod(0.37 * dataset + i * 0.6180339887498949, 1.0);
    const double normal = std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
    data.x.push_back(x);
    data.y.push_back(4 * (x - 0.6) * (x - 0.6) + noise_sd * normal);
  }
  return data;
}

double argmin_of_posterior_mean(const GaussianProcess& gp) {
  double best_x = 0, best_mean = INFINITY;
  for (int i = 0; i <= 200; ++i) {
    const double mean = gp.predict(i / 200.0).mean;
    if (mean < best_mean) best_mean = mean, best_x = i / 200.0;
  }
  return best_x;
}

}  // namespace

TEST_CASE("numerics::GaussianProcess log posterior adds the priors' log densities and their gradient") {
  GaussianProcess gp;
  gp.condition({0.1, 0.4, 0.8}, {1.0, 0.2, 0.9}, {0.0, 0.0, 0.0}, {});
  const GpHyperparameters theta{std::log(0.2), 0.4, std::log(0.02)};
  const autolrs::numerics::GpPrior prior;
  const auto likelihood = gp.log_marginal_likelihood(theta);
  const auto posterior = gp.log_posterior(theta, prior);
  double log_prior = 0;
  for (std::size_t j = 0; j < 3; ++j) {
    const double z = (theta.as_array()[j] - prior.mean[j]) / prior.sd[j];
    log_prior -= 0.5 * z * z;
    CHECK(posterior.gradient[j] == doctest::Approx(likelihood.gradient[j] - z / prior.sd[j]));
  }
  CHECK(posterior.value == doctest::Approx(likelihood.value + log_prior));
}

TEST_CASE("numerics::GaussianProcess with its priors keeps a smooth posterior on noisy unimodal data") {
  // 100 seeded datasets of ten noisy points of one parabola (noise 0.2 against a range of 1.44).
  // By likelihood alone the length scale collapses below 0.15 on about a quarter of them (the
  // posterior interpolates the noise: a comb of spikes); with the priors it never does, and the
  // posterior mean's minimum lands near the truth (x = 0.6).
  const autolrs::numerics::GpPrior flat{{0, 0, 0}, {1e6, 1e6, 1e6}};
  int collapsed_with_prior = 0, collapsed_without = 0;
  double error_with_prior = 0, error_without = 0;
  for (int dataset = 0; dataset < 100; ++dataset) {
    const NoisyParabola data = noisy_parabola(dataset, 0.2);
    const std::vector<double> no_extra_noise(data.x.size(), 0.0);
    GaussianProcess with_prior, without;
    with_prior.fit(data.x, data.y, no_extra_noise);
    without.fit(data.x, data.y, no_extra_noise, {}, flat);
    collapsed_with_prior += std::exp(with_prior.hyperparameters().log_length_scale) < 0.15;
    collapsed_without += std::exp(without.hyperparameters().log_length_scale) < 0.15;
    error_with_prior += std::abs(argmin_of_posterior_mean(with_prior) - 0.6);
    error_without += std::abs(argmin_of_posterior_mean(without) - 0.6);
  }
  CHECK(collapsed_without >= 15);
  CHECK(collapsed_with_prior == 0);
  MESSAGE("mean |argmin - 0.6|: " << error_with_prior / 100 << " with the priors, " << error_without / 100 << " without");
  CHECK(error_with_prior / 100 < 0.08);
  CHECK(error_with_prior < error_without);
}
