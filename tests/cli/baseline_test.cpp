#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>
#include <numbers>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::testing::Finished;
using autolrs::testing::read_text;
using autolrs::testing::run_autolrs;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
namespace fs = std::filesystem;

/// A spec for the simulator (with --dry-run) of `total_steps` steps, val_loss every 50 steps.
std::string dry_run_spec(long total_steps, const std::string& warmup = "") {
  return R"json({"name": "baseline-test",
    "trainer": {"command": ["python3", "train.py", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}"],
                "loss": {"pattern": "\\bloss=(?P<loss>\\S+)"}},
    "total_steps": )json" +
         std::to_string(total_steps) + (warmup.empty() ? "" : ", \"warmup\": " + warmup) +
         R"json(, "seed": 0, "simulator": {"task": "quadratic", "val_every": 50}})json";
}

/// A simulator spec whose steps take 10 ms, so a run can be interrupted midway.
std::string slow_dry_run_spec() {
  return R"json({"name": "slow", "trainer": {"command": ["python3", "train.py"], "loss": {"pattern": "\\bloss=(?P<loss>\\S+)"}},
    "total_steps": 400, "simulator": {"step_ms": 10, "val_every": 50}})json";
}

/// The minimal example trainer (plain Python) as the job's trainer.
std::string minimal_trainer_spec(long total_steps) {
  return R"json({"name": "minimal",
    "trainer": {"command": ["/usr/bin/python3", ")json" AUTOLRS_SOURCE_DIR R"json(/scripts/trainers/minimal_trainer.py",
                            "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}", "--seed", "{seed}"],
                "resume_args": ["--load", "{load_checkpoint}"],
                "loss": {"pattern": "\\bloss=(?P<loss>\\S+)"}},
    "total_steps": )json" +
         std::to_string(total_steps) + "}";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

std::vector<std::string> fields_of(const std::string& row) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t end; (end = row.find(',', start)) != std::string::npos; start = end + 1) {
    fields.push_back(row.substr(start, end - start));
  }
  fields.push_back(row.substr(start));
  return fields;
}

std::vector<std::string> baseline_args(const fs::path& spec, const fs::path& run_dir, std::vector<std::string> options) {
  std::vector<std::string> args{"baseline", spec.string(), "--run-dir", run_dir.string()};
  args.insert(args.end(), options.begin(), options.end());
  return args;
}

/// The per-step LR peak·f(t/N) of a cosine or linear schedule at step t.
double per_step_lr(const std::string& schedule, double peak, long t, long n) {
  const double u = static_cast<double>(t) / static_cast<double>(n);
  return schedule == "cosine" ? peak * 0.5 * (1 + std::cos(std::numbers::pi * u)) : peak * (1 - u);
}

/// Mean of the per-step LR over steps a … b−1, summed step by step.
double mean_per_step_lr(const std::string& schedule, double peak, long a, long b, long n) {
  double sum = 0;
  for (long t = a; t < b; ++t) sum += per_step_lr(schedule, peak, t, n);
  return sum / static_cast<double>(b - a);
}

/// A schedule.csv row split into its fields, with the LRs compared to `lr` and `lr_end` to 1e-12.
void check_row(const std::string& row, const std::string& stage, long start, long steps, double lr, double lr_end) {
  CAPTURE(row);
  const std::vector<std::string> fields = fields_of(row);
  REQUIRE(fields.size() == 5);
  CHECK(fields[0] == stage);
  CHECK(fields[1] == std::to_string(start));
  CHECK(fields[2] == std::to_string(steps));
  CHECK(std::stod(fields[3]) == doctest::Approx(lr).epsilon(1e-12));
  CHECK(std::stod(fields[4]) == doctest::Approx(lr_end).epsilon(1e-12));
}

}  // namespace

TEST_CASE("cli::baseline --dry-run trains every schedule as its launches (ramps: the simulator takes {lr_end}), with run's outputs") {
  TempDir dir;
  write_text(dir / "job.json", dry_run_spec(400));
  struct Case {
    std::vector<std::string> options;
    std::vector<std::string> schedule_rows;  ///< exact, for the piecewise-constant shapes; else empty
  };
  const std::vector<Case> cases = {
      {{"--schedule", "constant", "--lr", "0.05"}, {"0,0,400,0.05,0.05"}},
      {{"--schedule", "step", "--lr", "0.1"}, {"0,0,200,0.1,0.1", "1,200,100,0.01,0.01", "2,300,100,0.001,0.001"}},
      {{"--schedule", "wsd", "--lr", "0.1", "--segments", "1", "--cooldown", "0.25"}, {"0,0,300,0.1,0.1", "1,300,100,0.1,0"}},
      {{"--schedule", "cosine", "--lr", "0.1", "--segments", "4"}, {}},
      {{"--schedule", "linear", "--lr", "0.1", "--segments", "4"}, {}},
  };
  for (const Case& c : cases) {
    const std::string& schedule = c.options[1];
    SUBCASE(schedule.c_str()) {
      const fs::path run_dir = dir / ("run-" + schedule);
      std::vector<std::string> options = c.options;
      options.push_back("--dry-run");
      const Finished run = run_autolrs(dir.path(), baseline_args(dir / "job.json", run_dir, options));
      INFO(run.out, run.err);
      REQUIRE(run.status == 0);
      const std::vector<std::string> rows = lines_of(read_text(run_dir / "schedule.csv"));
      REQUIRE(!rows.empty());
      CHECK(rows[0] == "stage,start_step,steps,lr,lr_end");
      const std::vector<std::string> body(rows.begin() + 1, rows.end());
      if (!c.schedule_rows.empty()) {
        CHECK(body == c.schedule_rows);
      } else {
        REQUIRE(body.size() == 4);
        for (long k = 0; k < 4; ++k) {
          check_row(body[static_cast<size_t>(k)], std::to_string(k), 100 * k, 100, per_step_lr(schedule, 0.1, 100 * k, 400),
                    per_step_lr(schedule, 0.1, 100 * (k + 1), 400));
        }
        CHECK(run.out.find("[stage 3 of 4] train 100 steps") != std::string::npos);
      }
      const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
      CHECK(summary.at("status") == "completed");
      CHECK(summary.at("total_steps") == 400);
      CHECK(summary.at("probe_steps") == 0);
      CHECK(summary.at("compute_steps") == 400);
      CHECK(summary.at("launches") == body.size());
      CHECK(summary.at("stages").size() == body.size());
      CHECK(summary.at("final_val_loss").is_number());
      CHECK(summary.at("stages").back().at("final_val_loss") == summary.at("final_val_loss"));
      // losses.csv: one train loss per step, val every 50 global steps, all from stage launches.
      int train_rows = 0, val_rows = 0;
      for (const std::string& row : lines_of(read_text(run_dir / "losses.csv"))) {
        if (row.starts_with("kind,")) continue;
        CHECK(row.starts_with("stage,"));
        train_rows += row.ends_with(",train");
        val_rows += row.ends_with(",val");
      }
      CHECK(train_rows == 400);
      CHECK(val_rows >= 8);
      CHECK(fs::exists(run_dir / "logs" / "stage-000.stdout.log"));
    }
  }
}

TEST_CASE("cli::baseline runs the job's warmup first and fits the schedule into the steps after it") {
  TempDir dir;
  write_text(dir / "job.json", dry_run_spec(400, R"({"steps": 100, "lr": 0.01})"));
  const Finished run = run_autolrs(
      dir.path(), baseline_args(dir / "job.json", dir / "run", {"--schedule", "cosine", "--lr", "0.2", "--segments", "3", "--dry-run"}));
  INFO(run.out, run.err);
  REQUIRE(run.status == 0);
  const std::vector<std::string> rows = lines_of(read_text(dir / "run" / "schedule.csv"));
  REQUIRE(rows.size() == 5);
  CHECK(rows[1] == "warmup,0,100,0.01,0.01");
  for (long k = 0; k < 3; ++k) {
    check_row(rows[static_cast<size_t>(k + 2)], std::to_string(k), 100 + 100 * k, 100,
              per_step_lr("cosine", 0.2, 100 * k, 300), per_step_lr("cosine", 0.2, 100 * (k + 1), 300));
  }
}

TEST_CASE("cli::baseline refuses to resume a run with other baseline options, or as an autolrs run") {
  TempDir dir;
  write_text(dir / "job.json", dry_run_spec(200));
  const fs::path run_dir = dir / "run";
  const std::vector<std::string> cosine = {"--schedule", "cosine", "--lr", "0.1", "--segments", "2", "--dry-run"};
  REQUIRE(run_autolrs(dir.path(), baseline_args(dir / "job.json", run_dir, cosine)).status == 0);
  const std::string journal = read_text(run_dir / "journal.jsonl");

  SUBCASE("another peak LR") {
    const Finished resumed = run_autolrs(
        dir.path(), baseline_args(dir / "job.json", run_dir,
                                  {"--schedule", "cosine", "--lr", "0.2", "--segments", "2", "--dry-run", "--resume"}));
    CHECK(resumed.status == 2);
    CHECK(resumed.err.find("autolrs: error: --resume: the job changed since the run started (baseline.lr)") !=
          std::string::npos);
  }
  SUBCASE("another segment count") {
    const Finished resumed = run_autolrs(
        dir.path(), baseline_args(dir / "job.json", run_dir,
                                  {"--schedule", "cosine", "--lr", "0.1", "--segments", "3", "--dry-run", "--resume"}));
    CHECK(resumed.status == 2);
    CHECK(resumed.err.find("(baseline.segments)") != std::string::npos);
  }
  SUBCASE("autolrs run") {
    const Finished resumed =
        run_autolrs(dir.path(), {"run", (dir / "job.json").string(), "--run-dir", run_dir.string(), "--dry-run", "--resume"});
    CHECK(resumed.status == 2);
    CHECK(resumed.err.find("(baseline)") != std::string::npos);
  }
  SUBCASE("the same options resume the finished run without launching again") {
    std::vector<std::string> same = cosine;
    same.push_back("--resume");
    const Finished resumed = run_autolrs(dir.path(), baseline_args(dir / "job.json", run_dir, same));
    INFO(resumed.err);
    CHECK(resumed.status == 0);
    CHECK(nlohmann::json::parse(read_text(run_dir / "summary.json")).at("launches") == 2);
  }
  // A refused resume leaves the journal as it was.
  CHECK(read_text(run_dir / "journal.jsonl").starts_with(journal));
}

TEST_CASE("cli::baseline rejects bad schedule options and malformed schedule files before creating the run directory") {
  TempDir dir;
  write_text(dir / "job.json", dry_run_spec(200));
  write_text(dir / "bad.csv", "stage,start_step,steps,lr,lr_end\n0,0,100,0.1,0.1\n1,150,50,0.1,0\n");
  write_text(dir / "good.csv", "stage,start_step,steps,lr,lr_end\n0,0,100,0.1,0.1\n");
  struct Case {
    std::vector<std::string> options;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--schedule", "step", "--lr", "0.1", "--segments", "5"},
       "autolrs: error: --segments: applies to cosine, linear, quadratic, cubic and wsd schedules only (step runs as its own constant pieces)"},
      {{"--schedule", "cosine", "--lr", "0.1", "--segments", "0"}, "autolrs: error: --segments: must be >= 1, got 0"},
      {{"--schedule", "cosine", "--lr", "0"}, "autolrs: error: --lr: must be finite and > 0, got 0"},
      {{"--schedule", "exponential", "--lr", "0.1"}, "--schedule"},
      {{"--lr", "0.1"}, "autolrs: error: --schedule: is required (a shape), or --schedule-file\n"},
      {{"--schedule", "cosine"}, "autolrs: error: --lr: is required with --schedule\n"},
      {{"--schedule-file", (dir / "bad.csv").string()},
       "autolrs: error: " + (dir / "bad.csv").string() + ":3: starts at step 150, but the rows before it end at step 100\n"},
      {{"--schedule-file", (dir / "missing.csv").string()},
       "autolrs: error: " + (dir / "missing.csv").string() + ": cannot read the schedule file\n"},
      {{"--schedule-file", (dir / "good.csv").string(), "--lr", "0.1"}, "--lr excludes --schedule-file"},
      {{"--schedule-file", (dir / "good.csv").string(), "--schedule", "cosine"}, "--schedule excludes --schedule-file"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    std::vector<std::string> options = c.options;
    options.push_back("--dry-run");
    const Finished run = run_autolrs(dir.path(), baseline_args(dir / "job.json", dir / "run", options));
    CHECK(run.status == 2);
    CHECK(run.err.find(c.message) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "run"));
  }
}

TEST_CASE("cli::baseline trains the minimal example trainer with every schedule, resuming from checkpoints") {
  TempDir dir;
  write_text(dir / "job.json", minimal_trainer_spec(60));
  struct Case {
    std::vector<std::string> options;
    size_t launches;
  };
  const std::vector<Case> cases = {
      {{"--schedule", "constant", "--lr", "0.1"}, 1},
      {{"--schedule", "step", "--lr", "0.2"}, 3},
      {{"--schedule", "cosine", "--lr", "0.2", "--segments", "3"}, 3},
      {{"--schedule", "linear", "--lr", "0.2", "--segments", "2"}, 2},
  };
  for (const Case& c : cases) {
    const std::string& schedule = c.options[1];
    SUBCASE(schedule.c_str()) {
      const fs::path run_dir = dir / ("run-" + schedule);
      const Finished run = run_autolrs(dir.path(), baseline_args(dir / "job.json", run_dir, c.options));
      INFO(run.out, run.err);
      REQUIRE(run.status == 0);
      const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
      CHECK(summary.at("status") == "completed");
      CHECK(summary.at("total_steps") == 60);
      CHECK(summary.at("launches") == c.launches);
      const std::vector<std::string> rows = lines_of(read_text(run_dir / "schedule.csv"));
      CHECK(rows.size() == c.launches + 1);
      if (schedule == "cosine") {
        // The trainer's command has no {lr_end}: constant launches at the mean per-step LR of each piece.
        for (long k = 0; k < 3; ++k) {
          const double mean = mean_per_step_lr("cosine", 0.2, 20 * k, 20 * (k + 1), 60);
          check_row(rows[static_cast<size_t>(k + 1)], std::to_string(k), 20 * k, 20, mean, mean);
        }
      }
      // The global steps of the train losses run 1 … 60 without a gap: each launch resumed the last.
      std::vector<std::string> steps;
      for (const std::string& row : lines_of(read_text(run_dir / "losses.csv"))) {
        if (row.ends_with(",train")) steps.push_back(fields_of(row)[4]);
      }
      REQUIRE(steps.size() == 60);
      for (size_t i = 0; i < steps.size(); ++i) CHECK(steps[i] == std::to_string(i + 1));
      // y = 3x + 1 from w = b = 0: the squared error starts near 10 and ends far below it.
      CHECK(summary.at("final_loss").get<double>() < 1.0);
    }
  }
}

TEST_CASE("cli::baseline stopped by SIGINT says how to resume, and that command finishes the run") {
  TempDir dir;
  write_text(dir / "job.json", slow_dry_run_spec());
  const fs::path run_dir = dir / "run";
  const pid_t pid = autolrs::testing::spawn_autolrs(
      baseline_args(dir / "job.json", run_dir, {"--schedule", "linear", "--lr", "0.1", "--segments", "4", "--dry-run"}),
      dir / "out.txt", dir / "err.txt");
  // Waits (without a time assertion) until the second segment is running.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(run_dir / "logs" / "stage-001.stdout.log") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGINT);
  CHECK(autolrs::testing::wait_for(pid) == 130);
  const std::string expected = "autolrs: interrupted; continue with: autolrs baseline " + (dir / "job.json").string() +
                               " --schedule linear --lr 0.1 --segments 4 --dry-run --run-dir " + run_dir.string() +
                               " --resume\n";
  const std::string err = read_text(dir / "err.txt");
  REQUIRE(err.ends_with(expected));

  std::istringstream words(expected.substr(expected.find("autolrs baseline") + 8));
  std::vector<std::string> args;
  for (std::string word; words >> word;) args.push_back(word);
  const Finished resumed = run_autolrs(dir.path(), args);
  INFO(resumed.out, resumed.err);
  CHECK(resumed.status == 0);
  CHECK(lines_of(read_text(run_dir / "schedule.csv")).size() == 5);
  const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
  CHECK(summary.at("status") == "completed");
  CHECK(summary.at("total_steps") == 400);
}

TEST_CASE("autolrs baseline defaults to its own run dir beside the spec's, named by schedule and LR, which report rebuilds") {
  TempDir dir;
  write_text(dir / "job.json", dry_run_spec(200));
  // The search's run takes the spec's run_dir (runs/<name>); a baseline after it must not collide.
  const Finished search = run_autolrs(dir.path(), {"run", (dir / "job.json").string(), "--dry-run"});
  REQUIRE(search.status == 0);
  const Finished baseline = run_autolrs(dir.path(), {"baseline", (dir / "job.json").string(), "--dry-run", "--schedule",
                                                     "cosine", "--lr", "0.1", "--segments", "2"});
  CAPTURE(baseline.err);
  REQUIRE(baseline.status == 0);
  const fs::path run_dir = dir / "runs" / "baseline-test-baseline-cosine-lr0.1";
  CHECK(fs::exists(run_dir / "summary.json"));
  CHECK(read_text(run_dir / "report.html").find("<h1>baseline-test (baseline: cosine schedule, peak lr 0.1)</h1>") !=
        std::string::npos);
  fs::remove(run_dir / "report.html");
  const Finished report = run_autolrs(dir.path(), {"report", run_dir.string()});
  CAPTURE(report.err);
  CHECK(report.status == 0);
  CHECK(read_text(run_dir / "report.html").find("<h1>baseline-test (baseline: cosine schedule, peak lr 0.1)</h1>") !=
        std::string::npos);
}

namespace {

/// A dry-run spec with a warmup and stages short enough for a quick AutoLRS search.
std::string searched_spec(long total_steps) {
  return R"json({"name": "replay-test",
    "trainer": {"command": ["python3", "train.py", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}"],
                "loss": {"pattern": "\\bloss=(?P<loss>\\S+)"}},
    "warmup": {"steps": 50, "lr": 0.01},
    "search": {"first_stage_steps": 150, "max_stage_steps": 300},
    "total_steps": )json" +
         std::to_string(total_steps) + R"json(, "seed": 0, "simulator": {"task": "quadratic", "val_every": 50}})json";
}

}  // namespace

TEST_CASE("cli::baseline --schedule-file trains a run's found schedule again, launch for launch") {
  TempDir dir;
  write_text(dir / "job.json", searched_spec(1200));
  const fs::path searched = dir / "searched";
  const Finished search = run_autolrs(dir.path(), {"run", (dir / "job.json").string(), "--dry-run", "--run-dir", searched.string()});
  INFO(search.out, search.err);
  REQUIRE(search.status == 0);
  const std::string found = read_text(searched / "schedule.csv");
  const std::vector<std::string> found_rows = lines_of(found);
  REQUIRE(found_rows.size() >= 4);  // header, warmup, and stages, some of them ramps
  CHECK(found_rows[1] == "warmup,0,50,0.01,0.01");

  const fs::path replayed = dir / "replayed";
  const std::string schedule_file = (searched / "schedule.csv").string();
  const Finished replay = run_autolrs(
      dir.path(), baseline_args(dir / "job.json", replayed, {"--dry-run", "--schedule-file", schedule_file}));
  INFO(replay.out, replay.err);
  REQUIRE(replay.status == 0);
  CHECK(read_text(replayed / "schedule.csv") == found);
  const nlohmann::json summary = nlohmann::json::parse(read_text(replayed / "summary.json"));
  CHECK(summary.at("probe_steps") == 0);
  CHECK(summary.at("launches") == found_rows.size() - 1);
  CHECK(read_text(replayed / "report.html").find("<h1>replay-test (baseline: the schedule of " + schedule_file + ")</h1>") !=
        std::string::npos);
  fs::remove(replayed / "report.html");
  const Finished report = run_autolrs(dir.path(), {"report", replayed.string()});  // report rebuilds a replay too
  CAPTURE(report.err);
  CHECK(report.status == 0);
  CHECK(read_text(replayed / "report.html").find("<h1>replay-test (baseline: the schedule of " + schedule_file + ")</h1>") !=
        std::string::npos);

  SUBCASE("resumed with the same file, it is done; with a changed file, the resume is refused") {
    const std::vector<std::string> resume = baseline_args(dir / "job.json", replayed, {"--dry-run", "--schedule-file", schedule_file, "--resume"});
    CHECK(run_autolrs(dir.path(), resume).status == 0);
    write_text(searched / "schedule.csv", "stage,start_step,steps,lr,lr_end\n0,0,1200,0.1,0.1\n");
    const Finished refused = run_autolrs(dir.path(), resume);
    CHECK(refused.status == 2);
    CAPTURE(refused.err);
    CHECK(refused.err.find("the job changed since the run started (replay.segments, ") != std::string::npos);
  }
  SUBCASE("a spec of twice the steps scales every launch, and says so") {
    write_text(dir / "long.json", searched_spec(2400));
    const Finished scaled = run_autolrs(
        dir.path(), baseline_args(dir / "long.json", dir / "scaled", {"--dry-run", "--schedule-file", schedule_file}));
    INFO(scaled.err);
    REQUIRE(scaled.status == 0);
    CHECK(scaled.err.find("autolrs: warning: " + schedule_file + " covers 1200 steps, the spec's total_steps is 2400: its launches are scaled to 2400 steps, their LRs kept") != std::string::npos);
    const std::vector<std::string> rows = lines_of(read_text(dir / "scaled" / "schedule.csv"));
    REQUIRE(rows.size() == found_rows.size());
    for (size_t row = 1; row < rows.size(); ++row) {
      const std::vector<std::string> was = fields_of(found_rows[row]), now = fields_of(rows[row]);
      CHECK(now[0] == was[0]);
      CHECK(std::stol(now[1]) == 2 * std::stol(was[1]));
      CHECK(std::stol(now[2]) == 2 * std::stol(was[2]));
      CHECK(now[3] == was[3]);
      CHECK(now[4] == was[4]);
    }
  }
}
