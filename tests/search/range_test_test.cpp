#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "search/range_test.hpp"
#include "spec/input_error.hpp"

namespace {

using namespace autolrs::search;

/// A launch whose loss goes linearly from `start` to `end` over 10 points.
RangeTestPoint linear(double lr, double start, double end) {
  RangeTestPoint point{lr, OutcomeStatus::succeeded, {}};
  for (int i = 0; i < 10; ++i) point.train.push_back({i + 1.0, start + (end - start) * i / 9});
  return point;
}

RangeTestPoint diverged(double lr) {
  return RangeTestPoint{lr, OutcomeStatus::diverged, {{1, 2.0}, {2, 40.0}}};
}

LaunchOutcome succeeded_with(std::vector<LossPoint> train) {
  return LaunchOutcome{OutcomeStatus::succeeded, "", std::move(train), {}};
}

}  // namespace

TEST_CASE("search::range_test_lrs spaces the LRs evenly in log between exact ends") {
  const std::vector<double> lrs = range_test_lrs(RangeTestPlan{1e-6, 100, 25, 50});
  REQUIRE(lrs.size() == 25);
  CHECK(lrs.front() == 1e-6);
  CHECK(lrs.back() == 100);
  for (size_t i = 0; i < lrs.size(); ++i) CHECK(std::log10(lrs[i]) == doctest::Approx(-6 + i / 3.0));
}

TEST_CASE("search::default_range_test_plan widens the spec's bounds 100x and probes like the first stage") {
  autolrs::spec::JobSpec job;
  job.search.lr_min = 1e-4;
  job.search.lr_max = 1;
  job.search.first_stage_steps = 500;
  job.total_steps = 6000;
  const RangeTestPlan plan = default_range_test_plan(job);
  CHECK(plan.lr_low == doctest::Approx(1e-6));
  CHECK(plan.lr_high == doctest::Approx(100));
  CHECK(plan.points == 25);
  CHECK(plan.steps == 50);
}

TEST_CASE("search::check_range_test_plan names the option at fault") {
  const std::pair<RangeTestPlan, const char*> cases[] = {
      {{0, 1, 10, 5}, "--lr-min"},     {{1e-3, 1e-3, 10, 5}, "--lr-max"},
      {{1e-3, std::numeric_limits<double>::infinity(), 10, 5}, "--lr-max"},
      {{1e-3, 1, 1, 5}, "--points"},   {{1e-3, 1, 10, 0}, "--steps"},
  };
  for (const auto& [plan, field] : cases) {
    CAPTURE(field);
    CHECK_THROWS_WITH_AS(check_range_test_plan(plan), doctest::Contains(field), autolrs::spec::InputError);
  }
  CHECK_NOTHROW(check_range_test_plan({1e-3, 1, 2, 1}));
}

TEST_CASE("search::RangeTest hands out every LR once as stage 0 probes and records them") {
  RangeTest test(RangeTestPlan{1e-3, 1e-1, 3, 20});
  const std::vector<LaunchRequest> first = test.next_launches(2);
  REQUIRE(first.size() == 2);
  CHECK(first[0] == LaunchRequest{LaunchKind::probe, 0, 0, 0, 1e-3, 20, 0});
  CHECK(first[1].probe == 1);
  CHECK(first[1].lr == doctest::Approx(1e-2));
  CHECK(test.outstanding() == first);
  const std::vector<LaunchRequest> last = test.next_launches(4);
  REQUIRE(last.size() == 1);
  CHECK(last[0] == LaunchRequest{LaunchKind::probe, 0, 2, 0, 1e-1, 20, 0});
  CHECK(test.next_launches(1).empty());
  CHECK_THROWS_AS(test.record(LaunchRequest{LaunchKind::probe, 0, 7, 0, 1, 20, 0}, succeeded_with({})), std::logic_error);

  test.record(last[0], LaunchOutcome{OutcomeStatus::diverged, "loss diverged (50)", {{1, 2}, {2, 50}}, {}});
  test.record(first[0], succeeded_with({{10, 2}, {20, 1.8}}));
  CHECK_FALSE(test.finished());
  test.record(first[1], succeeded_with({{10, 2}, {20, 1.0}}));
  CHECK(test.finished());
  CHECK_FALSE(test.failure());
  CHECK(test.progress().probe_steps == 20 + 20 + 2);
  const StageRecord& stage = test.progress().stages.at(0);
  CHECK(stage.completed);
  CHECK(stage.probes.at(2).status == ProbeStatus::diverged);
  CHECK(stage.probes.at(2).reason == "loss diverged (50)");
  const std::vector<RangeTestPoint> points = test.points();
  REQUIRE(points.size() == 3);
  CHECK(points[1].train.back().loss == 1.0);

  SUBCASE("every launch failing is the test's failure") {
    RangeTest failing(RangeTestPlan{1e-3, 1e-1, 2, 20});
    for (const LaunchRequest& request : failing.next_launches(2)) {
      failing.record(request, LaunchOutcome{OutcomeStatus::failed, "exited with status 1", {}, {}});
    }
    REQUIRE(failing.failure());
    CHECK(*failing.failure() == "every range-test launch failed (see the logs; last: exited with status 1)");
  }
}

TEST_CASE("search::analyze_range_test suggests lr_max where the loss still falls well, before divergence") {
  struct Case {
    const char* name;
    std::vector<RangeTestPoint> points;
    std::optional<double> best_lr, lr_min, lr_max;
  };
  const Case cases[] = {
      {"U curve: 1.0 still makes 0.5 of the best's 0.8 progress",
       {linear(1e-4, 1, 0.99), linear(1e-3, 1, 0.9), linear(1e-2, 1, 0.5), linear(1e-1, 1, 0.2), linear(1, 1, 0.5),
        diverged(10)},
       1e-1, 1e-3, 1.0},
      {"1.0 makes less than half the best progress",
       {linear(1e-4, 1, 0.99), linear(1e-3, 1, 0.9), linear(1e-2, 1, 0.5), linear(1e-1, 1, 0.2), linear(1, 1, 0.7),
        diverged(10)},
       1e-1, 1e-4, 1e-1},
      {"divergence right above the best", {linear(1e-3, 1, 0.9), linear(1e-2, 1, 0.3), diverged(1e-1), linear(1, 1, 0.35)},
       1e-2, 1e-3, 1e-2},
      {"a failed launch stops the walk too",
       {linear(1e-3, 1, 0.9), linear(1e-2, 1, 0.3), RangeTestPoint{1e-1, OutcomeStatus::failed, {}}, linear(1, 1, 0.3)},
       1e-2, 1e-3, 1e-2},
      {"order of the input does not matter", {linear(1, 1, 0.5), linear(1e-1, 1, 0.2), linear(1e-2, 1, 0.4)}, 1e-1, 1e-2, 1.0},
      {"no LR lowered the loss", {linear(1e-3, 1, 1.0), linear(1e-2, 1, 1.2), diverged(1e-1)}, std::nullopt, std::nullopt, std::nullopt},
      {"everything diverged", {diverged(1e-3), diverged(1e-2)}, std::nullopt, std::nullopt, std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const RangeTestAnalysis analysis = analyze_range_test(c.points);
    CHECK(analysis.best_lr == c.best_lr);
    CHECK(analysis.lr_min.has_value() == c.lr_min.has_value());
    if (analysis.lr_min && c.lr_min) CHECK(*analysis.lr_min == doctest::Approx(*c.lr_min));
    CHECK(analysis.lr_max == c.lr_max);
    CHECK(!analysis.explanation.empty());
  }
}

TEST_CASE("search::analyze_range_test smooths the final loss over the last fifth of the series") {
  RangeTestPoint noisy{1e-2, OutcomeStatus::succeeded, {}};
  for (int i = 0; i < 10; ++i) noisy.train.push_back({i + 1.0, i < 8 ? 1.0 : (i == 8 ? 0.4 : 0.6)});
  const RangeTestAnalysis analysis = analyze_range_test({noisy, diverged(1)});
  REQUIRE(analysis.rows.size() == 2);
  CHECK(analysis.start_loss == 1.0);
  CHECK(*analysis.rows[0].final_loss == doctest::Approx(0.5));
  CHECK_FALSE(analysis.rows[1].final_loss);
  CHECK(analysis.explanation.find("no LR lowered") == std::string::npos);
}
