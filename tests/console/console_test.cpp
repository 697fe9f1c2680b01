#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "console/console_mode.hpp"
#include "console/console_reporter.hpp"
#include "console/json_events.hpp"
#include "console/live_status.hpp"

namespace {

using namespace autolrs;

class ManualClock : public orchestrator::Clock {
 public:
  double now_s() const override { return now; }
  double now = 100;
};

/// The dry-run config's shape: 6000 steps in stages of 500, 1000, 2000, 2000, 500; 10 probes each.
spec::JobSpec dry_run_job() {
  spec::JobSpec job;
  job.name = "dry-run";
  job.search.first_stage_steps = 500;
  job.search.max_stage_steps = 2000;
  job.total_steps = 6000;
  job.run_dir = "/runs/dry-run";
  return job;
}

/// A run after its first stage's first probe (forecast 0.3) and nothing else.
struct Fixture {
  spec::JobSpec job = dry_run_job();
  search::SearchRecord progress;
  std::vector<orchestrator::LaunchReport> launches;
  search::LaunchRequest probe{search::LaunchKind::probe, 0, 0, 0, 0.01, 50, 0};
  orchestrator::LaunchReport report;

  Fixture() {
    search::StageRecord& stage = progress.stages.emplace_back();
    stage.steps = 500;
    stage.probe_steps = 50;
    stage.probe_count = 10;
    search::ProbeRecord& record = stage.probes.emplace_back();
    record.lr = 0.01;
    record.steps = 50;
    record.status = search::ProbeStatus::succeeded;
    record.forecast = numerics::Forecast{.status = numerics::ForecastStatus::ok, .prediction = 0.3, .prediction_std = 0.05, .points_used = 3};
    record.judged_by = search::ProbeJudgement::forecast;
    progress.probe_steps = 50;
    report.request = probe;
    report.outcome.status = search::OutcomeStatus::succeeded;
    report.outcome.train = {{25, 0.9}, {50, 0.5}};
    report.outcome.val = {{50, 0.625}};
    report.wall_s = 1.25;
    launches.push_back(report);
  }
  orchestrator::RunState state(orchestrator::RunStatus status = orchestrator::RunStatus::running, double wall_s = 2) const {
    return orchestrator::RunState{job, progress, launches, status, wall_s, "", std::nullopt};
  }
};

}  // namespace

TEST_CASE("console::ConsoleReporter prints one plain line per finished launch and the result") {
  Fixture fixture;
  std::ostringstream out;
  console::ConsoleReporter reporter(out);
  reporter.on_launch_started(fixture.probe, 0, fixture.state());
  reporter.on_loss(fixture.probe, false, 0.9);
  reporter.on_launch_finished(fixture.report, fixture.state());
  CHECK(out.str() == "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  loss=0.5  val=0.625  forecast=0.3  (1.2 s)\n");

  SUBCASE("a failed launch says why") {
    fixture.report.outcome.status = search::OutcomeStatus::failed;
    fixture.report.outcome.reason = "exited with status 1";
    fixture.report.request = search::LaunchRequest{search::LaunchKind::stage, 1, -1, 1, 0.02, 1000, 500};
    // The first attempt's failure, as the run saw it: the retry's line says why it runs again.
    orchestrator::LaunchReport first_attempt = fixture.report;
    first_attempt.request.attempt = 0;
    first_attempt.outcome.reason = "killed after the launch timeout of 3600 s (see logs/stage-001.stderr.log)\nTraceback";
    fixture.launches.push_back(first_attempt);
    CHECK(console::launch_line(fixture.report, fixture.state()) ==
          "[stage 1 of 5] train 1000 steps  lr=2.000e-02 (retry 1: killed after the launch timeout of 3600 ...)  loss=0.5  val=0.625  "
          "failed: exited with status 1  (1.2 s)");
  }
  SUBCASE("the probe count is the one the search planned for the stage") {
    fixture.progress.stages[0].probe_count = 2;  // e.g. three LR multiples, two of them clamped to one bound
    CHECK(console::launch_label(fixture.probe, fixture.state()) == "[stage 0 of 5] probe 0 of 2");
  }
  SUBCASE("a probe judged by its end loss shows it, after its decay tail or at its own end") {
    search::ProbeRecord& record = fixture.progress.stages[0].probes[0];
    record.end_loss = 0.25;
    record.end_loss_from_val = true;
    record.judged_by = search::ProbeJudgement::end_loss;
    CHECK(console::launch_line(fixture.report, fixture.state()) ==
          "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  loss=0.5  val=0.625  end=0.25 (val)  (1.2 s)");
    fixture.report.request.decay_tail = true;
    CHECK(console::launch_line(fixture.report, fixture.state()) ==
          "[stage 0 of 5] probe 0 of 10 decay  lr=1.000e-02  loss=0.5  val=0.625  after decay=0.25 (val)  (1.2 s)");
  }
  SUBCASE("quiet prints the one-line result only") {
    std::ostringstream quiet_out;
    console::QuietReporter quiet(quiet_out);
    quiet.on_launch_finished(fixture.report, fixture.state());
    fixture.progress.model_steps = 500;
    quiet.on_run_finished(fixture.state(orchestrator::RunStatus::failed, 12.5));
    CHECK(quiet_out.str() == "autolrs: failed: 500 model steps + 50 probe steps (0.10 per training step) in 12.5 s\n");
  }
}

TEST_CASE("console::JsonEventReporter writes one JSON object per event with the documented fields") {
  Fixture fixture;
  std::ostringstream out;
  console::JsonEventReporter reporter(out);
  reporter.on_launch_started(fixture.probe, 1, fixture.state(orchestrator::RunStatus::running, 0.5));
  reporter.on_loss(fixture.probe, false, 0.9);
  reporter.on_launch_finished(fixture.report, fixture.state());
  reporter.on_run_finished(fixture.state(orchestrator::RunStatus::completed, 3));

  std::istringstream lines(out.str());
  std::vector<nlohmann::json> events;
  for (std::string line; std::getline(lines, line);) events.push_back(nlohmann::json::parse(line));
  REQUIRE(events.size() == 3);
  CHECK(events[0] == nlohmann::json::parse(R"({"event": "launch_started", "elapsed_s": 0.5, "launch": "stage-000-probe-00",
      "slot": 1, "request": {"kind": "probe", "stage": 0, "probe": 0, "attempt": 0, "lr": 0.01, "steps": 50, "start_step": 0, "from_probe": -1, "decay_tail": false}})"));
  CHECK(events[1] == nlohmann::json::parse(R"({"event": "launch_finished", "elapsed_s": 2, "launch": "stage-000-probe-00",
      "request": {"kind": "probe", "stage": 0, "probe": 0, "attempt": 0, "lr": 0.01, "steps": 50, "start_step": 0, "from_probe": -1, "decay_tail": false},
      "status": "succeeded", "reason": "", "wall_s": 1.25, "train_points": 2, "val_points": 1, "last_loss": 0.5,
      "last_val_loss": 0.625, "forecast": 0.3, "end_loss": null, "model_steps": 0, "probe_steps": 50})"));
  CHECK(events[2]["event"] == "run_finished");
  CHECK(events[2]["status"] == "completed");
  CHECK(events[2]["elapsed_s"] == 3);
  CHECK(events[2]["summary"]["probe_steps"] == 50);
  CHECK(events[2]["summary"]["stages"][0]["probes"][0]["forecast"] == 0.3);
}

TEST_CASE("console::LiveStatusReporter redraws one status line in place, throttling loss updates") {
  Fixture fixture;
  ManualClock clock;
  std::ostringstream out;
  const long planned = 6000 + 10 * 600;
  console::LiveStatusReporter reporter(out, clock, planned, 200, 0.1);
  const std::string clear = "\r\033[K";
  fixture.progress.probe_steps = 0;

  reporter.on_launch_started(fixture.probe, 0, fixture.state(orchestrator::RunStatus::running, 0));
  CHECK(out.str() == clear + "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  [....................] 0/6000 steps  0:00");
  out.str("");

  clock.now += 0.05;
  reporter.on_loss(fixture.probe, false, 0.9);
  CHECK(out.str().empty());  // within 0.1 s of the last redraw
  clock.now += 0.06;
  reporter.on_loss(fixture.probe, true, 0.7);
  CHECK(out.str().empty());  // val losses do not redraw
  reporter.on_loss(fixture.probe, false, 0.8);
  CHECK(out.str() == clear + "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  loss=0.8  [....................] 0/6000 steps  0:00");
  out.str("");

  fixture.progress.model_steps = 1500;
  fixture.progress.probe_steps = 1500;
  clock.now += 30;
  reporter.on_launch_finished(fixture.report, fixture.state(orchestrator::RunStatus::running, 60));
  // 3000 of 12000 compute steps in 60 s: 180 s to go.
  CHECK(out.str() == clear + "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  loss=0.5  val=0.625  forecast=0.3  (1.2 s)\n" + clear +
                         "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  loss=0.8  forecast=0.3  [#####...............] 1500/6000 steps  1:00  ETA 3:00");
  CHECK(reporter.status_line().find("1:00  ETA 3:00") != std::string::npos);
  clock.now += 60;
  CHECK(reporter.status_line().find("2:00  ETA 6:00") != std::string::npos);

  out.str("");
  reporter.on_launch_started(fixture.probe, 0, fixture.state(orchestrator::RunStatus::running, 120));
  // The next launch runs: the finished probe's forecast is not its own.
  CHECK(out.str() == clear + "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  [#####...............] 1500/6000 steps  2:00  ETA 6:00");

  out.str("");
  reporter.on_run_finished(fixture.state(orchestrator::RunStatus::completed, 120));
  CHECK(out.str().rfind(clear + "\n stage  start_step", 0) == 0);
}

TEST_CASE("console::LiveStatusReporter cuts its line to one column less than the terminal's width") {
  Fixture fixture;
  ManualClock clock;
  const std::string full = "[stage 0 of 5] probe 0 of 10  lr=1.000e-02  [....................] 0/6000 steps  0:00";
  for (const int columns : {80, 40, static_cast<int>(full.size()) + 1}) {
    CAPTURE(columns);
    std::ostringstream out;
    console::LiveStatusReporter reporter(out, clock, 12000, columns, 0.1);
    reporter.on_launch_started(fixture.probe, 0, fixture.state(orchestrator::RunStatus::running, 0));
    CHECK(reporter.status_line() == full.substr(0, static_cast<size_t>(columns - 1)));
    CHECK(out.str() == "\r\033[K" + full.substr(0, static_cast<size_t>(columns - 1)));
  }
}

TEST_CASE("console::terminal_columns takes the terminal's width, else COLUMNS, else 80") {
  CHECK(console::terminal_columns(120, "60") == 120);
  CHECK(console::terminal_columns(std::nullopt, "60") == 60);
  CHECK(console::terminal_columns(0, "60") == 60);
  CHECK(console::terminal_columns(std::nullopt, nullptr) == 80);
  CHECK(console::terminal_columns(std::nullopt, "") == 80);
  CHECK(console::terminal_columns(std::nullopt, "wide") == 80);
  CHECK(console::terminal_columns(std::nullopt, "60x") == 80);
  CHECK(console::terminal_columns(std::nullopt, "1") == 80);
}

TEST_CASE("console::choose_console_mode prefers quiet, then json, then live on a terminal") {
  using console::ConsoleMode;
  CHECK(console::choose_console_mode(true, "json", true) == ConsoleMode::quiet);
  CHECK(console::choose_console_mode(false, "json", true) == ConsoleMode::json);
  CHECK(console::choose_console_mode(false, "text", true) == ConsoleMode::live);
  CHECK(console::choose_console_mode(false, "text", false) == ConsoleMode::plain);
}

TEST_CASE("console::format_duration writes m:ss, then h:mm:ss") {
  const std::pair<double, std::string> cases[] = {{0, "0:00"}, {59.9, "0:59"}, {61, "1:01"}, {3599, "59:59"},
                                                  {3600, "1:00:00"}, {7322, "2:02:02"}, {-5, "0:00"}};
  for (const auto& [seconds, text] : cases) {
    CAPTURE(seconds);
    CHECK(console::format_duration(seconds) == text);
  }
}
