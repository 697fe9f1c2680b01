#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "simulator/expected_dynamics.hpp"

using namespace autolrs::simulator;

namespace {

/// One dimension, h = 2, β = 0.5, B = 4, c = 1 (σ² = c·h/B = 0.5), θ_0 = 1.
Task one_dimension() {
  return {.name = "one", .dimension = 1, .h_min = 2, .h_max = 2, .spectrum = Spectrum::log_uniform,
          .noise_scale = 1, .batch_size = 4, .momentum = 0.5, .initial_loss = 1};
}

Task twenty_dimensions() {
  return {.name = "twenty", .dimension = 20, .h_min = 0.01, .h_max = 1, .spectrum = Spectrum::log_uniform,
          .noise_scale = 1, .batch_size = 4, .momentum = 0.9, .initial_loss = 1};
}

}  // namespace

TEST_CASE("simulator::advance matches hand-computed moments in one dimension") {
  // θ_1 = 0.8 − 0.1ξ_1, v_1 = 2 + ξ_1; θ_2 = 0.54 − 0.13ξ_1 − 0.1ξ_2 with Var ξ = 0.5.
  const Task task = one_dimension();
  Moments moments = moments_of(initial_state(task, 0));
  const double one_step[] = {0.1};
  advance(task, moments, one_step);
  CHECK(moments.theta_sq[0] == doctest::Approx(0.64 + 0.01 * 0.5));
  CHECK(moments.theta_velocity[0] == doctest::Approx(1.6 - 0.1 * 0.5));
  CHECK(moments.velocity_sq[0] == doctest::Approx(4 + 0.5));
  CHECK(expected_loss(task, moments) == doctest::Approx(0.645));
  CHECK(expected_loss_after(task, {{0.1, 2}}) == doctest::Approx(0.54 * 0.54 + (0.13 * 0.13 + 0.01) * 0.5));
  CHECK(expected_loss_after(task, {}) == doctest::Approx(1.0));
}

TEST_CASE("simulator::advance reaches the AR(2) stationary variance under constant LR") {
  // θ_{t+1} = (1+β−ηh)θ_t − βθ_{t−1} − ηξ_t is AR(2); its stationary variance is
  // (1+β)ησ² / ((1−β)·h·(2(1+β) − ηh)) (Box and Jenkins, §3.2.4).
  const Task task = one_dimension();
  for (double lr : {0.01, 0.1, 1.0}) {
    CAPTURE(lr);
    const double variance = 1.5 * lr * 0.5 / (0.5 * 2 * (3 - lr * 2));
    CHECK(expected_loss_after(task, {{lr, 100000}}) == doctest::Approx(0.5 * 2 * variance).epsilon(1e-9));
  }
}

TEST_CASE("simulator::advance by a segment equals stepping through it") {
  const Task task = twenty_dimensions();
  Moments by_segments = moments_of(initial_state(task, 0));
  advance(task, by_segments, ScheduleSegment{0.05, 37});
  advance(task, by_segments, ScheduleSegment{0.2, 13});
  std::vector<double> lrs(37, 0.05);
  lrs.insert(lrs.end(), 13, 0.2);
  Moments by_steps = moments_of(initial_state(task, 0));
  advance(task, by_steps, lrs);
  for (int i = 0; i < task.dimension; ++i) {
    CHECK(by_segments.theta_sq[i] == doctest::Approx(by_steps.theta_sq[i]).epsilon(1e-10));
    CHECK(by_segments.theta_velocity[i] == doctest::Approx(by_steps.theta_velocity[i]).epsilon(1e-10));
    CHECK(by_segments.velocity_sq[i] == doctest::Approx(by_steps.velocity_sq[i]).epsilon(1e-10));
  }
  CHECK(expected_loss_after(task, {{0.05, 37}, {0.2, 13}}) == doctest::Approx(expected_loss_after_steps(task, lrs)));
}

TEST_CASE("simulator::expected_loss_after from a state equals the noise-free run when c = 0") {
  Task task = twenty_dimensions();
  task.noise_scale = 0;
  Simulator simulator(task);
  State state = initial_state(task, 5);
  for (int i = 0; i < 40; ++i) simulator.step(state, 0.3);
  const State saved = state;
  for (int i = 0; i < 60; ++i) simulator.step(state, 0.1);
  CHECK(expected_loss_after(task, saved, {{0.1, 60}}) == doctest::Approx(simulator.noise_free_loss(state)).epsilon(1e-9));
}

TEST_CASE("simulator::expected_loss_after agrees with the Monte-Carlo mean of the simulator") {
  // 400 seeded runs of 300 steps (200 at lr 0.3, then 100 at 0.03). Tolerance: 4 standard errors of
  // the sample mean, and the standard error itself below 3% of the value so the check has teeth.
  const Task task = twenty_dimensions();
  Simulator simulator(task);
  constexpr int runs = 400;
  double sum_first_loss = 0, sum_mid = 0, sum_mid_sq = 0, sum_end = 0, sum_end_sq = 0;
  for (int seed = 0; seed < runs; ++seed) {
    State state = initial_state(task, static_cast<std::uint64_t>(seed));
    sum_first_loss += simulator.step(state, 0.3);
    for (int i = 1; i < 200; ++i) simulator.step(state, 0.3);
    const double mid = simulator.noise_free_loss(state);
    for (int i = 0; i < 100; ++i) simulator.step(state, 0.03);
    const double end = simulator.noise_free_loss(state);
    sum_mid += mid;
    sum_mid_sq += mid * mid;
    sum_end += end;
    sum_end_sq += end * end;
  }
  auto check_mean = [&](double sum, double sum_sq, double expected) {
    const double mean = sum / runs;
    const double standard_error = std::sqrt((sum_sq / runs - mean * mean) / (runs - 1));
    CAPTURE(mean);
    CAPTURE(expected);
    CAPTURE(standard_error);
    CHECK(standard_error < 0.03 * expected);
    CHECK(std::abs(mean - expected) < 4 * standard_error);
  };
  check_mean(sum_mid, sum_mid_sq, expected_loss_after(task, {{0.3, 200}}));
  check_mean(sum_end, sum_end_sq, expected_loss_after(task, {{0.3, 200}, {0.03, 100}}));
  // The first minibatch loss is taken at θ_0: E = L_0 + d·c/(2B) = 1 + 20/8.
  CHECK(sum_first_loss / runs == doctest::Approx(3.5).epsilon(0.02));
}

TEST_CASE("simulator::expected_loss reports divergence as +inf") {
  const Task task = one_dimension();  // stability limit 2(1+β)/h = 1.5
  CHECK(expected_loss_after(task, {{1.6, 100000}}) == std::numeric_limits<double>::infinity());
  CHECK(std::isfinite(expected_loss_after(task, {{1.4, 100000}})));
}

TEST_CASE("simulator::cosine_schedule decays from the peak towards zero") {
  const std::vector<double> lrs = cosine_schedule(0.4, 4);
  REQUIRE(lrs.size() == 4);
  CHECK(lrs[0] == doctest::Approx(0.4));
  CHECK(lrs[1] == doctest::Approx(0.2 * (1 + std::sqrt(0.5))));
  CHECK(lrs[2] == doctest::Approx(0.2));
  CHECK(lrs[3] == doctest::Approx(0.2 * (1 - std::sqrt(0.5))));
}

TEST_CASE("simulator::minimize_over_log_lr finds the minimum of a function of log lr") {
  auto bowl = [](double lr) { return std::pow(std::log10(lr / 0.0123), 2) + 1; };
  SUBCASE("inside the range") {
    const LrChoice choice = minimize_over_log_lr(bowl, 1e-4, 1.0);
    CHECK(choice.lr == doctest::Approx(0.0123).epsilon(1e-3));
    CHECK(choice.expected_loss == doctest::Approx(1.0));
  }
  SUBCASE("at the edge of the range") { CHECK(minimize_over_log_lr(bowl, 0.02, 1.0).lr == doctest::Approx(0.02)); }
  SUBCASE("NaN counts as +inf") {
    auto nan_above = [&](double lr) { return lr > 0.01 ? std::numeric_limits<double>::quiet_NaN() : bowl(lr); };
    CHECK(minimize_over_log_lr(nan_above, 1e-4, 1.0).lr <= 0.01);
  }
}

TEST_CASE("simulator preset quadratic: the best constant LR is well inside the search bounds") {
  // configs/dry-run.json searches [1e-4, 1]; the optimum must not sit at an edge for runs of 4k–8k steps.
  const Task task = preset_task("quadratic");
  for (long steps : {4000L, 6000L, 8000L}) {
    CAPTURE(steps);
    const LrChoice best = best_constant_lr(task, steps, 1e-4, 1.0);
    CHECK(best.lr > 3e-3);
    CHECK(best.lr < 0.3);
    // Too small is slow, too large plateaus higher, past the stability limit it diverges.
    CHECK(expected_loss_after(task, {{best.lr / 10, steps}}) > 2 * best.expected_loss);
    CHECK(expected_loss_after(task, {{best.lr * 5, steps}}) > 2 * best.expected_loss);
    CHECK(expected_loss_after(task, {{1.01 * stability_limit_lr(task), steps}}) ==
          std::numeric_limits<double>::infinity());
  }
}

TEST_CASE("simulator preset quadratic: the best cosine schedule beats the best constant LR") {
  const Task task = preset_task("quadratic");
  const LrChoice constant = best_constant_lr(task, 6000, 1e-4, 1.0);
  const LrChoice cosine = best_cosine_peak_lr(task, 6000, 1e-4, 1.0);
  CAPTURE(constant.lr);
  CAPTURE(cosine.lr);
  CHECK(cosine.lr > 3e-3);
  CHECK(cosine.lr < 0.3);
  CHECK(cosine.expected_loss < constant.expected_loss);
}
