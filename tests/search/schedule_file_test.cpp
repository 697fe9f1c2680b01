#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "search/schedule_file.hpp"
#include "spec/input_error.hpp"

using namespace autolrs;
using search::ReplayedSchedule;
using search::ScheduleSegment;

TEST_CASE("search::parse_schedule_csv reads a run's warmup and stage rows, ramps where lr_end differs from lr") {
  const ReplayedSchedule schedule = search::parse_schedule_csv(
      "stage,start_step,steps,lr,lr_end\n"
      "warmup,0,100,0.01,0.01\n"
      "0,100,1200,0.3593813663804626,0.3593813663804626\n"
      "1,1300,600,0.3593813663804626,0.27515135863504164\r\n"
      "2,1900,600,0.27515135863504164,0\n",
      "run/schedule.csv");
  CHECK(schedule.warmup.steps == 100);
  CHECK(schedule.warmup.lr == 0.01);
  CHECK(schedule.segments == std::vector<ScheduleSegment>{{0, 1200, 0.3593813663804626, std::nullopt},
                                                           {1200, 600, 0.3593813663804626, 0.27515135863504164},
                                                           {1800, 600, 0.27515135863504164, 0.0}});
  CHECK(schedule.total_steps() == 2500);

  SUBCASE("without a warmup row, stages start at step 0") {
    const ReplayedSchedule plain = search::parse_schedule_csv("stage,start_step,steps,lr,lr_end\n0,0,400,0.05,0.05", "s.csv");
    CHECK(plain.warmup.steps == 0);
    CHECK(plain.segments == std::vector<ScheduleSegment>{{0, 400, 0.05, std::nullopt}});
  }
}

TEST_CASE("search::parse_schedule_csv names the line and the field of a malformed file") {
  const std::string header = "stage,start_step,steps,lr,lr_end\n";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "s.csv: empty file, expected the header stage,start_step,steps,lr,lr_end"},
      {"kind,stage,probe,lr,step,loss,split\n", "s.csv:1: expected the header stage,start_step,steps,lr,lr_end, got \"kind,stage,probe,lr,step,loss,split\""},
      {header, "s.csv: no stage rows: the run it comes from trained no stage"},
      {header + "warmup,0,100,0.01,0.01\n", "s.csv: no stage rows"},
      {header + "0,0,400,0.05\n", "s.csv:2: expected 5 fields (stage,start_step,steps,lr,lr_end), got 4"},
      {header + "0,0,400,0.05,0.05\n\n1,400,10,0.1,0.1\n", "s.csv:3: empty row"},
      {header + "0,0,4e2,0.05,0.05\n", "s.csv:2: steps must be an integer, got \"4e2\""},
      {header + "0,0,0,0.05,0.05\n", "s.csv:2: steps must be >= 1, got 0"},
      {header + "0,-1,10,0.05,0.05\n", "s.csv:2: start_step must be >= 0, got -1"},
      {header + "0,0,10,abc,0.05\n", "s.csv:2: lr must be a finite number, got \"abc\""},
      {header + "0,0,10,nan,0.05\n", "s.csv:2: lr must be a finite number, got \"nan\""},
      {header + "0,0,10, 0.05,0.05\n", "s.csv:2: lr must be a finite number, got \" 0.05\""},
      {header + "0,0,10,0,0\n", "s.csv:2: lr must be > 0, got 0"},
      {header + "0,0,10,0.1,-0.1\n", "s.csv:2: lr_end must be >= 0, got -0.1"},
      {header + "0,0,10,0.1,0.1\n1,20,10,0.1,0.1\n", "s.csv:3: starts at step 20, but the rows before it end at step 10"},
      {header + "0,0,10,0.1,0.1\n1,5,10,0.1,0.1\n", "s.csv:3: starts at step 5, but the rows before it end at step 10"},
      {header + "0,0,10,0.1,0.1\nwarmup,10,10,0.1,0.1\n", "s.csv:3: a warmup row must be the first row"},
      {header + "warmup,0,10,0.1,0.2\n", "s.csv:2: a warmup row must have lr_end = lr"},
      {header + "probe,0,10,0.1,0.1\n", "s.csv:2: stage must be \"warmup\" or a stage number, got \"probe\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK_THROWS_WITH_AS(search::parse_schedule_csv(c.text, "s.csv"), doctest::Contains(c.message.c_str()), spec::InputError);
  }
}

TEST_CASE("search::scaled_to moves every row boundary by total_steps over the file's steps, keeping the LRs") {
  const ReplayedSchedule file{{100, 0.01}, {{0, 500, 0.3, std::nullopt}, {500, 400, 0.3, 0.0}}};
  const ReplayedSchedule same = search::scaled_to(file, 1000);
  CHECK(same.warmup.steps == 100);
  CHECK(same.segments == file.segments);
  const ReplayedSchedule doubled = search::scaled_to(file, 2000);
  CHECK(doubled.warmup.steps == 200);
  CHECK(doubled.warmup.lr == 0.01);
  CHECK(doubled.segments == std::vector<ScheduleSegment>{{0, 1000, 0.3, std::nullopt}, {1000, 800, 0.3, 0.0}});
  // 1000 → 333: boundaries 100, 600, 1000 round to 33, 200, 333.
  const ReplayedSchedule shrunk = search::scaled_to(file, 333);
  CHECK(shrunk.warmup.steps == 33);
  CHECK(shrunk.segments == std::vector<ScheduleSegment>{{0, 167, 0.3, std::nullopt}, {167, 133, 0.3, 0.0}});
  CHECK_THROWS_WITH_AS(search::scaled_to(file, 4),
                       "total_steps: scaling the schedule file's 1000 steps to 4 leaves its warmup without steps", spec::InputError);
  const ReplayedSchedule short_stage{{0, 0}, {{0, 990, 0.3, std::nullopt}, {990, 10, 0.3, 0.0}}};
  CHECK_THROWS_WITH_AS(search::scaled_to(short_stage, 20),
                       "total_steps: scaling the schedule file's 1000 steps to 20 leaves its stage 1 without steps", spec::InputError);
}

TEST_CASE("search::constant_pieces turns each ramp into a constant launch at its per-step mean LR") {
  const std::vector<ScheduleSegment> pieces =
      search::constant_pieces({{0, 100, 0.5, std::nullopt}, {100, 4, 0.4, 0.0}, {104, 1, 0.2, 0.1}});
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0] == ScheduleSegment{0, 100, 0.5, std::nullopt});
  // Steps at 0.4, 0.3, 0.2, 0.1: mean 0.25. A one-step ramp runs at its first LR.
  CHECK(pieces[1].lr == doctest::Approx(0.25).epsilon(1e-15));
  CHECK_FALSE(pieces[1].lr_end);
  CHECK(pieces[2] == ScheduleSegment{104, 1, 0.2, std::nullopt});
}
