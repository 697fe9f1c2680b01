#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "simulator/expected_dynamics.hpp"
#include "simulator/schedule_oracle.hpp"
#include "simulator/task.hpp"

using namespace autolrs::simulator;

TEST_CASE("simulator::optimize_schedule with one segment finds the best constant LR") {
  const Task task = preset_task("quadratic");
  const OracleSchedule oracle = optimize_schedule(task, 1000, 1, 1e-4, 1.0);
  const LrChoice constant = best_constant_lr(task, 1000, 1e-4, 1.0);
  REQUIRE(oracle.segments.size() == 1);
  CHECK(oracle.segments[0].steps == 1000);
  CHECK(oracle.segments[0].lr == doctest::Approx(constant.lr).epsilon(0.01));
  CHECK(oracle.expected_loss == doctest::Approx(constant.expected_loss).epsilon(1e-6));
}

TEST_CASE("simulator::optimize_schedule beats the best cosine and is a local optimum in every segment") {
  const Task task = preset_task("quadratic");
  const long steps = 2000;
  const OracleSchedule oracle = optimize_schedule(task, steps, 8, 1e-4, 1.0);
  REQUIRE(oracle.segments.size() == 8);
  long covered = 0;
  for (const ScheduleSegment& segment : oracle.segments) {
    CHECK(segment.steps == 250);
    CHECK(segment.lr >= 1e-4);
    CHECK(segment.lr <= stability_limit_lr(task));
    covered += segment.steps;
  }
  CHECK(covered == steps);
  CHECK(oracle.sweeps >= 1);
  CHECK(oracle.expected_loss == expected_loss_after(task, oracle.segments));
  const LrChoice cosine = best_cosine_peak_lr(task, steps, 1e-4, 1.0);
  CHECK(oracle.expected_loss < cosine.expected_loss);
  // The optimal schedule on the NQM decays: a large LR first for the flat directions, a small one
  // last to shed the noise floor.
  CHECK(oracle.segments.back().lr < oracle.segments.front().lr / 10);
  for (size_t k = 0; k < oracle.segments.size(); ++k) {
    CAPTURE(k);
    for (double factor : {0.95, 1.05}) {
      std::vector<ScheduleSegment> perturbed = oracle.segments;
      perturbed[k].lr *= factor;
      if (perturbed[k].lr > stability_limit_lr(task)) continue;
      CHECK(expected_loss_after(task, perturbed) >= oracle.expected_loss * (1 - 1e-9));
    }
  }
}

TEST_CASE("simulator::optimize_schedule rejects segment counts and bounds out of range") {
  const Task task = preset_task("quadratic");
  CHECK_THROWS_AS(optimize_schedule(task, 10, 0, 1e-4, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(optimize_schedule(task, 10, 11, 1e-4, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(optimize_schedule(task, 10, 2, 0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(optimize_schedule(task, 10, 2, 1.0, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(optimize_schedule(task, 10, 2, 0.5, 1.0), std::invalid_argument);  // all above 0.38
}
