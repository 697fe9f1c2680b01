#include "session/run_identity.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "spec/input_error.hpp"

namespace autolrs::session {
namespace {

using nlohmann::json;

spec::JobSpec small_job() {
  return spec::parse_job_spec(
      R"json({"name": "kinds", "trainer": {"command": ["train", "--lr", "{lr}"], "loss": {"pattern": "loss=(?P<loss>\\S+)"}},
          "search": {"first_stage_steps": 100, "max_stage_steps": 200}, "total_steps": 400})json",
      "/jobs/kinds.json");
}

TEST_CASE("session::identity_json writes each kind of run as the journal's first record holds it, and reads it back") {
  const json spec = {{"name", "kinds"}};
  search::ScheduleSpec cosine{search::ScheduleShape::cosine, 0.5, 8};
  search::ScheduleSpec step{search::ScheduleShape::step, 0.25, search::default_schedule_segments};
  const std::vector<std::pair<RunIdentity, json>> cases = {
      {RunIdentity{spec, false, AutoLrsRun{}}, json{{"spec", spec}, {"dry_run", false}}},
      {RunIdentity{spec, true, BaselineRun{cosine}},
       json{{"spec", spec}, {"dry_run", true}, {"baseline", {{"schedule", "cosine"}, {"lr", 0.5}, {"segments", 8}}}}},
      {RunIdentity{spec, false, BaselineRun{step}},
       json{{"spec", spec}, {"dry_run", false}, {"baseline", {{"schedule", "step"}, {"lr", 0.25}, {"segments", nullptr}}}}},
      {RunIdentity{spec, false, ReplayRun{"runs/a/schedule.csv", {{100, 0.01}, {{0, 200, 0.5, std::nullopt}, {200, 100, 0.5, 0.0}}}}},
       json{{"spec", spec},
            {"dry_run", false},
            {"replay",
             {{"schedule_file", "runs/a/schedule.csv"},
              {"warmup", {{"steps", 100}, {"lr", 0.01}}},
              {"segments",
               {{{"start_step", 0}, {"steps", 200}, {"lr", 0.5}, {"lr_end", nullptr}},
                {{"start_step", 200}, {"steps", 100}, {"lr", 0.5}, {"lr_end", 0.0}}}}}}}},
      {RunIdentity{spec, true, RangeTestRun{search::RangeTestPlan{1e-6, 100, 25, 50}}},
       json{{"spec", spec}, {"dry_run", true}, {"range_test", {{"lr_min", 1e-6}, {"lr_max", 100}, {"points", 25}, {"steps", 50}}}}},
  };
  for (const auto& [identity, written] : cases) {
    CAPTURE(written.dump());
    CHECK(identity_json(identity) == written);
    const RunIdentity read = identity_from_json(json::parse(written.dump()));
    CHECK(read.kind.index() == identity.kind.index());
    CHECK(identity_json(read) == written);  // a resume compares exactly this
  }
}

TEST_CASE("session::make_planner plans each kind of run with its own planner") {
  const spec::JobSpec job = small_job();
  SUBCASE("an AutoLRS run probes first") {
    const search::LaunchRequest first = make_planner(job, RunKind{AutoLrsRun{}})->next_launches(1).front();
    CHECK(first.id() == "stage-000-probe-00");
  }
  SUBCASE("a baseline trains its first segment at the schedule's LR") {
    const search::LaunchRequest first =
        make_planner(job, RunKind{BaselineRun{search::ScheduleSpec{search::ScheduleShape::constant, 0.125, 1}}})->next_launches(1).front();
    CHECK(first.id() == "stage-000");
    CHECK(first.lr == 0.125);
    CHECK(first.steps == 400);
  }
  SUBCASE("a replay runs the file's warmup, then its launches scaled to the job's steps, ramps as their means") {
    // 300 file steps to the job's 400: boundaries 60, 240, 300 move to 80, 320, 400.
    const ReplayRun replay{"schedule.csv", {{60, 0.01}, {{0, 180, 0.5, std::nullopt}, {180, 60, 0.5, 0.1}}}};
    const std::unique_ptr<search::FixedSchedule> planner = make_planner(job, replay);
    const std::vector<search::ScheduleSegment>& segments = planner->segments();
    REQUIRE(segments.size() == 2);
    CHECK(segments[0] == search::ScheduleSegment{0, 240, 0.5, std::nullopt});
    CHECK(segments[1].start_step == 240);
    CHECK(segments[1].steps == 80);
    CHECK(segments[1].lr == doctest::Approx(0.5 - 0.4 * 79 / 160).epsilon(1e-15));
    CHECK_FALSE(segments[1].lr_end);
    const search::LaunchRequest warmup = planner->next_launches(1).front();
    CHECK(warmup.id() == "warmup");
    CHECK(warmup.lr == 0.01);
    CHECK(warmup.steps == 80);
    CHECK(describe_method(replay, job) == "baseline: the schedule of schedule.csv, scaled from 300 to 400 steps");
  }
  SUBCASE("a range test launches its LRs from the lowest") {
    const std::vector<search::LaunchRequest> launches =
        make_planner(job, RunKind{RangeTestRun{search::RangeTestPlan{1e-3, 1e-1, 3, 20}}})->next_launches(3);
    REQUIRE(launches.size() == 3);
    CHECK(launches[0].lr == 1e-3);
    CHECK(launches[1].lr == doctest::Approx(1e-2));
    CHECK(launches[2].lr == 1e-1);
    CHECK(launches[2].steps == 20);
  }
}

TEST_CASE("session::identity_from_json names the journal's first line when it holds no run identity") {
  const std::vector<json> bad = {json{{"dry_run", false}}, json::array(),
                                 json{{"spec", {}}, {"baseline", {{"schedule", "zigzag"}, {"lr", 1}, {"segments", nullptr}}}},
                                 json{{"spec", {}}, {"range_test", {{"lr_min", 1e-3}}}},
                                 json{{"spec", {}}, {"replay", {{"schedule_file", "s.csv"}, {"warmup", {{"steps", 0}, {"lr", 0}}}, {"segments", json::array()}}}}};
  for (const json& identity : bad) {
    CAPTURE(identity.dump());
    CHECK_THROWS_WITH_AS(identity_from_json(identity), doctest::Contains("journal.jsonl:1: "), spec::InputError);
  }
}

TEST_CASE("session::job_for_identity parses the recorded spec again, in the run dir") {
  const spec::JobSpec job = small_job();
  const spec::JobSpec rebuilt = job_for_identity(RunIdentity{job.source, false, AutoLrsRun{}}, "/runs/kinds");
  CHECK(rebuilt.run_dir == "/runs/kinds");
  CHECK(rebuilt.trainer.command == job.trainer.command);
  CHECK(rebuilt.total_steps == 400);
  CHECK(rebuilt.trainer.workdir == "/runs/kinds");  // relative paths anchor at the run dir
}

}  // namespace
}  // namespace autolrs::session
