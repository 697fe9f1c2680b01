#include <doctest/doctest.h>

#include <vector>

#include "search/trainer_check.hpp"

namespace {

using namespace autolrs::search;

LaunchOutcome succeeded() { return LaunchOutcome{OutcomeStatus::succeeded, "", {{1, 2.0}, {2, 1.5}}, {}}; }

}  // namespace

TEST_CASE("search::default_trainer_check_plan probes at the bounds' geometric mean and a tenth of it, like the first probes") {
  autolrs::spec::JobSpec job;
  job.search.lr_min = 1e-4;
  job.search.lr_max = 1;
  job.search.first_stage_steps = 500;
  job.total_steps = 6000;
  TrainerCheckPlan plan = default_trainer_check_plan(job);
  CHECK(plan.lr_high == doctest::Approx(0.01));
  CHECK(plan.lr_low == doctest::Approx(0.001));
  CHECK(plan.steps == 50);
  job.search.lr_min = 0.005;  // bounds less than 100x apart: lr_low stays within them
  job.search.lr_max = 0.02;
  plan = default_trainer_check_plan(job);
  CHECK(plan.lr_high == doctest::Approx(0.01));
  CHECK(plan.lr_low == 0.005);
}

TEST_CASE("search::TrainerCheck launches two probes from the start, then continues the first at the lower LR") {
  TrainerCheck check(TrainerCheckPlan{0.01, 0.001, 20});
  const std::vector<LaunchRequest> probes = check.next_launches(4);
  REQUIRE(probes.size() == 2);
  CHECK(probes[0].id() == "stage-000-probe-00");
  CHECK(probes[0].lr == 0.01);
  CHECK(probes[1].id() == "stage-000-probe-01");
  CHECK(probes[1].lr == 0.001);
  for (const LaunchRequest& probe : probes) {
    CHECK(probe.start_step == 0);
    CHECK(probe.steps == 20);
  }
  check.record(probes[1], succeeded());
  CHECK(check.next_launches(4).empty());  // the continuation waits for both
  check.record(probes[0], succeeded());
  const std::vector<LaunchRequest> continuation = check.next_launches(4);
  REQUIRE(continuation.size() == 1);
  CHECK(continuation[0].kind == LaunchKind::stage);
  CHECK(continuation[0].from_probe == 0);
  CHECK(continuation[0].lr == 0.001);
  CHECK(continuation[0].start_step == 20);
  CHECK(continuation[0].steps == 20);
  CHECK_FALSE(check.finished());
  check.record(continuation[0], succeeded());
  CHECK(check.finished());
  CHECK_FALSE(check.failure());
  CHECK(check.progress().stages[0].completed);
  CHECK(check.progress().probe_steps == 40);
  CHECK(check.progress().model_steps == 20);
}

TEST_CASE("search::TrainerCheck stops at the first failed launch, naming it") {
  TrainerCheck check(TrainerCheckPlan{0.01, 0.001, 20});
  const std::vector<LaunchRequest> probes = check.next_launches(1);
  REQUIRE(probes.size() == 1);
  check.record(probes[0], LaunchOutcome{OutcomeStatus::failed, "exited with status 1", {}, {}});
  REQUIRE(check.failure());
  CHECK(*check.failure() == "stage-000-probe-00 (lr 0.01) failed: exited with status 1");
  CHECK(check.next_launches(1).empty());
}
