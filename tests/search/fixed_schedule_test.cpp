#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "search/fixed_schedule.hpp"

using namespace autolrs;
using search::FixedSchedule;
using search::LaunchKind;
using search::LaunchOutcome;
using search::LaunchRequest;
using search::OutcomeStatus;
using search::ScheduleSegment;
using search::ScheduleShape;
using search::ScheduleSpec;

namespace {

spec::JobSpec job_of(long total_steps, long warmup_steps = 0) {
  spec::JobSpec job;
  job.name = "baseline";
  job.trainer.command = {"train"};
  job.trainer.loss = {"loss=(?P<loss>\\S+)"};
  job.total_steps = total_steps;
  job.warmup.steps = warmup_steps;
  job.warmup.lr = warmup_steps > 0 ? 0.01 : 0;
  return job;
}

LaunchOutcome succeeded_with(std::vector<double> train, std::vector<double> val = {}) {
  LaunchOutcome outcome;
  outcome.status = OutcomeStatus::succeeded;
  for (size_t i = 0; i < train.size(); ++i) outcome.train.push_back({static_cast<double>(i + 1), train[i]});
  for (size_t i = 0; i < val.size(); ++i) outcome.val.push_back({static_cast<double>(i + 1), val[i]});
  return outcome;
}

LaunchOutcome failed_with(const std::string& reason) {
  LaunchOutcome outcome;
  outcome.reason = reason;
  return outcome;
}

/// Launches one at a time until the planner is done; every launch gets `answer(request)`.
template <typename Answer>
std::vector<LaunchRequest> drive(FixedSchedule& planner, Answer answer) {
  std::vector<LaunchRequest> launches;
  for (int guard = 0; guard < 1000 && !planner.finished() && !planner.failure(); ++guard) {
    const std::vector<LaunchRequest> next = planner.next_launches(3);
    REQUIRE(next.size() == 1);
    launches.push_back(next.front());
    planner.record(next.front(), answer(next.front()));
  }
  return launches;
}

/// The per-step LR of the header's formulas, for brute-force sums.
double per_step_lr(ScheduleShape shape, double peak, long t, long n) {
  const double fraction = static_cast<double>(t) / static_cast<double>(n);
  return shape == ScheduleShape::cosine ? peak * 0.5 * (1 + std::cos(std::numbers::pi * fraction)) : peak * (1 - fraction);
}

}  // namespace

TEST_CASE("search::schedule_segments cuts each shape into launches at the closed-form LRs") {
  const double peak = 0.2;
  const double root_half = std::sqrt(0.5);
  struct Case {
    const char* name;
    ScheduleSpec schedule;
    long steps;
    std::vector<ScheduleSegment> expected;
  };
  const std::vector<Case> cases = {
      {"constant is one launch at the peak", {ScheduleShape::constant, peak, 20}, 6000, {{0, 6000, peak}}},
      {"step drops ×0.1 at 50% and 75%",
       {ScheduleShape::step, peak, 20},
       6000,
       {{0, 3000, peak}, {3000, 1500, peak / 10}, {4500, 1500, peak / 100}}},
      {"step over 3 steps keeps three one-step pieces",
       {ScheduleShape::step, peak, 20},
       3,
       {{0, 1, peak}, {1, 1, peak / 10}, {2, 1, peak / 100}}},
      {"step over 2 steps drops the empty middle piece", {ScheduleShape::step, peak, 20}, 2, {{0, 1, peak}, {1, 1, peak / 100}}},
      {"cosine, two segments of two steps: mean of ½(1 + cos(πt/4))",
       {ScheduleShape::cosine, peak, 2},
       4,
       {{0, 2, peak * 0.5 * (1 + (1 + root_half) / 2)}, {2, 2, peak * 0.5 * (1 + (0 - root_half) / 2)}}},
      {"cosine with more segments than steps: one step each, at lr_t",
       {ScheduleShape::cosine, peak, 20},
       3,
       {{0, 1, peak}, {1, 1, peak * 0.5 * (1 + 0.5)}, {2, 1, peak * 0.5 * (1 - 0.5)}}},
      {"linear, two segments of two steps: mean of 1 − t/4", {ScheduleShape::linear, peak, 2}, 4, {{0, 2, peak * 0.875}, {2, 2, peak * 0.375}}},
      {"linear, uneven cut of 10 steps into 4: ⌊kN/K⌋ boundaries",
       {ScheduleShape::linear, peak, 4},
       10,
       {{0, 2, peak * 0.95}, {2, 3, peak * 0.7}, {5, 2, peak * 0.45}, {7, 3, peak * 0.2}}},
      {"quadratic, two segments of two steps: mean of u² over u ∈ [½, 1] and [0, ½]",
       {ScheduleShape::quadratic, peak, 2},
       4,
       {{0, 2, peak * 7.0 / 12}, {2, 2, peak / 12}}},
      {"cubic, two segments of two steps: mean of u³ over u ∈ [½, 1] and [0, ½]",
       {ScheduleShape::cubic, peak, 2},
       4,
       {{0, 2, peak * 15.0 / 32}, {2, 2, peak / 32}}},
  };
  for (const Case& c : cases) {
    SUBCASE(c.name) {
      const std::vector<ScheduleSegment> segments = search::schedule_segments(c.schedule, c.steps);
      REQUIRE(segments.size() == c.expected.size());
      for (size_t i = 0; i < segments.size(); ++i) {
        CAPTURE(i);
        CHECK(segments[i].start_step == c.expected[i].start_step);
        CHECK(segments[i].steps == c.expected[i].steps);
        CHECK(segments[i].lr == doctest::Approx(c.expected[i].lr).epsilon(1e-13));
      }
    }
  }
}

TEST_CASE("search::schedule_segments: wsd holds the peak, then cools down along 1 - sqrt") {
  const double peak = 0.2;
  SUBCASE("constant pieces at the cooldown curve's mean: 1 - (2/3)(v_b^1.5 - v_a^1.5)/(v_b - v_a)") {
    const auto segments = search::schedule_segments({ScheduleShape::wsd, peak, 2, 0.5}, 8);
    REQUIRE(segments.size() == 3);
    CHECK(segments[0] == ScheduleSegment{0, 4, peak, {}});
    CHECK(segments[1].start_step == 4);
    CHECK(segments[1].steps == 2);
    CHECK(segments[1].lr == doctest::Approx(peak * (1 - (2.0 / 3) * std::pow(0.5, 1.5) / 0.5)).epsilon(1e-13));
    CHECK(segments[2].start_step == 6);
    CHECK(segments[2].lr == doctest::Approx(peak * (1 - (2.0 / 3) * (1 - std::pow(0.5, 1.5)) / 0.5)).epsilon(1e-13));
    CHECK_FALSE(segments[2].lr_end.has_value());
  }
  SUBCASE("a cooldown of the whole run has no stable launch; the default is the last 20%") {
    CHECK(search::schedule_segments({ScheduleShape::wsd, peak, 4, 1.0}, 8).size() == 4);
    const auto segments = search::schedule_segments({ScheduleShape::wsd, peak, 20}, 6000);
    REQUIRE(segments.size() == 21);
    CHECK(segments[0] == ScheduleSegment{0, 4800, peak, {}});
    CHECK(segments[1].start_step == 4800);
    CHECK(segments[20].start_step + segments[20].steps == 6000);
  }
  SUBCASE("the continuous mean is below the per-step mean by at most the curve's fall over the piece per step") {
    const long cooldown = 1200;
    const auto per_step = [&](long t) { return peak * (1 - std::sqrt(static_cast<double>(t - 4800) / cooldown)); };
    const auto segments = search::schedule_segments({ScheduleShape::wsd, peak, 20}, 6000);
    for (std::size_t i = 1; i < segments.size(); ++i) {
      const long a = segments[i].start_step, b = a + segments[i].steps;
      double sum = 0;
      for (long t = a; t < b; ++t) sum += per_step(t);
      const double excess = sum / static_cast<double>(b - a) - segments[i].lr;
      CHECK(excess >= 0);
      CHECK(excess <= (per_step(a) - per_step(b)) / static_cast<double>(b - a));
    }
  }
}

TEST_CASE("search::schedule_segments with ramps follows the curve's chords, each launch ending where the next begins") {
  const double peak = 0.2;
  const ScheduleSpec cosine{ScheduleShape::cosine, peak, 2, search::default_cooldown_fraction, true};
  CHECK(search::schedule_segments(cosine, 4) ==
        std::vector<ScheduleSegment>{{0, 2, peak, peak * 0.5 * (1 + std::cos(std::numbers::pi / 2))}, {2, 2, peak * 0.5, 0.0}});
  const ScheduleSpec wsd{ScheduleShape::wsd, peak, 2, 0.5, true};
  const auto segments = search::schedule_segments(wsd, 8);
  REQUIRE(segments.size() == 3);
  CHECK(segments[0] == ScheduleSegment{0, 4, peak, {}});  // the stable part stays constant
  CHECK(segments[1] == ScheduleSegment{4, 2, peak, peak * (1 - std::sqrt(0.5))});
  CHECK(segments[2] == ScheduleSegment{6, 2, peak * (1 - std::sqrt(0.5)), 0.0});
  const ScheduleSpec cubic{ScheduleShape::cubic, peak, 2, search::default_cooldown_fraction, true};
  CHECK(search::schedule_segments(cubic, 4) == std::vector<ScheduleSegment>{{0, 2, peak, peak / 8}, {2, 2, peak / 8, 0.0}});
  // Constant shapes are constant launches with or without ramps.
  CHECK(search::schedule_segments({ScheduleShape::constant, peak, 20, 0.2, true}, 10) ==
        std::vector<ScheduleSegment>{{0, 10, peak, {}}});
}

TEST_CASE("search::schedule_segments keeps the per-step schedule's total LR in every segment") {
  for (ScheduleShape shape : {ScheduleShape::cosine, ScheduleShape::linear}) {
    CAPTURE(search::to_string(shape));
    const long steps = 6000;
    const std::vector<ScheduleSegment> segments = search::schedule_segments({shape, 0.13, 20}, steps);
    REQUIRE(segments.size() == 20);
    long next_start = 0;
    for (const ScheduleSegment& segment : segments) {
      CHECK(segment.start_step == next_start);
      CHECK(segment.steps == 300);
      double sum = 0;
      for (long t = segment.start_step; t < segment.start_step + segment.steps; ++t) sum += per_step_lr(shape, 0.13, t, steps);
      CHECK(segment.lr * static_cast<double>(segment.steps) == doctest::Approx(sum).epsilon(1e-12));
      next_start += segment.steps;
    }
    CHECK(next_start == steps);
  }
}

TEST_CASE("search::schedule_segments rejects empty runs, non-positive peaks and segment counts") {
  CHECK_THROWS_AS(search::schedule_segments({ScheduleShape::cosine, 0.1, 20}, 0), std::invalid_argument);
  CHECK_THROWS_AS(search::schedule_segments({ScheduleShape::cosine, 0, 20}, 100), std::invalid_argument);
  CHECK_THROWS_AS(search::schedule_segments({ScheduleShape::cosine, std::numeric_limits<double>::infinity(), 20}, 100),
                  std::invalid_argument);
  CHECK_THROWS_AS(search::schedule_segments({ScheduleShape::linear, 0.1, 0}, 100), std::invalid_argument);
  CHECK_THROWS_AS(search::schedule_segments({ScheduleShape::wsd, 0.1, 20, 0.0}, 100), std::invalid_argument);
  CHECK_THROWS_AS(search::schedule_segments({ScheduleShape::wsd, 0.1, 20, 1.5}, 100), std::invalid_argument);
}

TEST_CASE("search::schedule_shape_from_name reads back every shape's name and nothing else") {
  for (ScheduleShape shape : {ScheduleShape::constant, ScheduleShape::cosine, ScheduleShape::step, ScheduleShape::linear,
                              ScheduleShape::wsd, ScheduleShape::quadratic, ScheduleShape::cubic}) {
    CHECK(search::schedule_shape_from_name(search::to_string(shape)) == shape);
  }
  CHECK_FALSE(search::schedule_shape_from_name("Cosine").has_value());
  CHECK_FALSE(search::schedule_shape_from_name("").has_value());
  CHECK(search::is_piecewise_constant(ScheduleShape::step));
  CHECK_FALSE(search::is_piecewise_constant(ScheduleShape::linear));
}

TEST_CASE("search::FixedSchedule runs the warmup, then each segment from the previous checkpoint, no probes") {
  FixedSchedule planner(job_of(1100, 100), {ScheduleShape::linear, 0.4, 4});
  CHECK(planner.progress().planned_stages == 4);
  const std::vector<LaunchRequest> launches = drive(planner, [](const LaunchRequest& request) {
    return succeeded_with({1.0, 0.5 / (request.stage + 2)}, {0.25});
  });
  REQUIRE(launches.size() == 5);
  CHECK(launches[0].kind == LaunchKind::warmup);
  CHECK(launches[0].lr == 0.01);
  CHECK(launches[0].steps == 100);
  CHECK(launches[0].start_step == 0);
  const long starts[] = {100, 350, 600, 850};
  for (int k = 0; k < 4; ++k) {
    CAPTURE(k);
    const LaunchRequest& launch = launches[static_cast<size_t>(k + 1)];
    CHECK(launch.id() == "stage-00" + std::to_string(k));
    CHECK(launch.kind == LaunchKind::stage);
    CHECK(launch.start_step == starts[k]);
    CHECK(launch.steps == 250);
    // Mean of 0.4·(1 − t/1000) over t = 250k … 250k + 249.
    CHECK(launch.lr == doctest::Approx(0.4 * (1 - (500.0 * k + 249) / 2000)).epsilon(1e-13));
  }
  CHECK(planner.finished());
  CHECK(planner.next_launches(1).empty());
  const search::SearchRecord& record = planner.progress();
  CHECK(record.model_steps == 1100);
  CHECK(record.probe_steps == 0);
  REQUIRE(record.warmup.has_value());
  CHECK(record.warmup->completed);
  CHECK(record.warmup->attempts == 1);
  REQUIRE(record.stages.size() == 4);
  for (const search::StageRecord& stage : record.stages) {
    CHECK(stage.completed);
    CHECK(stage.probe_steps == 0);
    CHECK(stage.probes.empty());
    CHECK(stage.attempts == 1);
    CHECK(stage.final_loss == 0.5 / (stage.index + 2));
    CHECK(stage.final_val_loss == 0.25);
  }
  CHECK(record.stages[2].lr == launches[3].lr);
  // The level the last stage's train losses ended at: the mean of its (fewer than 20) losses.
  CHECK(planner.reference_loss() == doctest::Approx((1.0 + 0.5 / 5) / 2));
}

TEST_CASE("search::FixedSchedule retries a failed launch trainer.max_retries times at the same LR, then fails") {
  spec::JobSpec job = job_of(600);
  job.trainer.max_retries = 1;

  SUBCASE("a retry that succeeds goes on with the next segment") {
    FixedSchedule planner(job, {ScheduleShape::step, 0.1, 20});
    int calls = 0;
    const std::vector<LaunchRequest> launches = drive(planner, [&](const LaunchRequest&) {
      return ++calls == 1 ? failed_with("exited with status 3") : succeeded_with({1.0});
    });
    REQUIRE(launches.size() == 4);
    CHECK(launches[0].id() == "stage-000");
    CHECK(launches[1].id() == "stage-000-retry-1");
    CHECK(launches[1].lr == launches[0].lr);
    CHECK(launches[1].start_step == 0);
    CHECK(launches[2].id() == "stage-001");
    CHECK(planner.finished());
    CHECK(planner.progress().stages[0].attempts == 2);
    CHECK(planner.progress().model_steps == 600);
  }
  SUBCASE("a launch failing past its retries fails the run") {
    FixedSchedule planner(job, {ScheduleShape::constant, 0.1, 20});
    const std::vector<LaunchRequest> launches =
        drive(planner, [](const LaunchRequest&) { return failed_with("killed by signal 9"); });
    REQUIRE(launches.size() == 2);
    REQUIRE(planner.failure().has_value());
    CHECK(*planner.failure() == "stage 0 failed after 2 attempt(s): killed by signal 9");
    CHECK_FALSE(planner.finished());
    CHECK(planner.next_launches(1).empty());
    CHECK(planner.progress().model_steps == 0);
    CHECK_FALSE(planner.progress().stages[0].completed);
  }
  SUBCASE("a failing warmup is named as such") {
    job.warmup = {100, 0.001};
    FixedSchedule planner(job, {ScheduleShape::constant, 0.1, 20});
    drive(planner, [](const LaunchRequest&) { return failed_with("no checkpoint written"); });
    CHECK(*planner.failure() == "warmup failed after 2 attempt(s): no checkpoint written");
  }
}

TEST_CASE("search::FixedSchedule issues one launch at a time and refuses outcomes it did not ask for") {
  FixedSchedule planner(job_of(100), {ScheduleShape::cosine, 0.1, 2});
  CHECK(planner.next_launches(0).empty());
  const std::vector<LaunchRequest> first = planner.next_launches(4);
  REQUIRE(first.size() == 1);
  CHECK(planner.next_launches(4).empty());
  CHECK(planner.outstanding() == first);
  LaunchRequest other = first.front();
  other.stage = 1;
  CHECK_THROWS_AS(planner.record(other, succeeded_with({1.0})), std::logic_error);
  // Non-finite losses do not count towards the reference level.
  planner.record(first.front(), succeeded_with({2.0, std::numeric_limits<double>::quiet_NaN()}));
  CHECK(planner.reference_loss() == 2.0);
  CHECK(planner.outstanding().empty());
}
