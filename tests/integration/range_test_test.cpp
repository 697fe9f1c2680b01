#include <doctest/doctest.h>

#include <filesystem>
#include <cstdio>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "support/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::testing::read_text;
using autolrs::testing::run_autolrs;
using autolrs::testing::TempDir;
namespace fs = std::filesystem;

const std::string dry_run_config = std::string(AUTOLRS_SOURCE_DIR) + "/configs/dry-run.json";

}  // namespace

// The simulator's quadratic task (docs/simulator.md): the best constant LR for the 6000 steps of
// configs/dry-run.json is about 0.034 and the stability limit about 0.38.
TEST_CASE("autolrs range-test on the dry-run config suggests bounds around the best constant LR") {
  TempDir dir;
  const fs::path run_dir = dir / "range";
  const auto run = run_autolrs(dir.path(), {"range-test", dry_run_config, "--dry-run", "--run-dir", run_dir.string()});
  INFO(run.out);
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(run.out.rfind("range test: 25 LRs from 1e-06 to 100, 50 steps each from scratch; run dir " + run_dir.string() + "\n", 0) == 0);
  std::smatch match;
  REQUIRE(std::regex_search(run.out, match,
                            std::regex(R"(\nset these in the spec's "search" object \(its other keys stay\):\n  "lr_min": (\S+), "lr_max": (\S+)\n)")));
  const double lr_min = std::stod(match[1]), lr_max = std::stod(match[2]);
  CHECK(lr_min < 0.034);
  CHECK(lr_max > 0.034);
  CHECK(lr_max < 0.38 * 2);  // short of the LRs that diverge
  CHECK(lr_min == doctest::Approx(lr_max / 1000));

  for (const char* output : {"journal.jsonl", "summary.json", "schedule.csv", "losses.csv", "range_test.svg",
                             "logs/stage-000-probe-00.stdout.log", "logs/stage-000-probe-24.stderr.log"}) {
    CAPTURE(output);
    CHECK(fs::exists(run_dir / output));
  }
  CHECK(fs::is_empty(run_dir / "checkpoints"));
  const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
  CHECK(summary["status"] == "completed");
  CHECK(summary["stages"][0]["probes"].size() == 25);
  // One final loss per LR, the same in the launch's line, the table and summary.json.
  const nlohmann::json& probe = summary["stages"][0]["probes"][3];
  REQUIRE(probe["end_loss"].is_number());
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.4g", probe["end_loss"].get<double>());
  char line[96];
  std::snprintf(line, sizeof line, "[lr 3 of 25] lr=%.3e  final loss %s  (", probe["lr"].get<double>(), loss);
  CHECK(run.out.find(line) != std::string::npos);
  char row[96];
  std::snprintf(row, sizeof row, "  %10.3e  %10.4g\n", probe["lr"].get<double>(), probe["end_loss"].get<double>());
  CHECK(run.out.find(row) != std::string::npos);
  CHECK(read_text(run_dir / "range_test.svg").find(">lr_max ") != std::string::npos);

  SUBCASE("the run dir is not reused") {
    const auto again = run_autolrs(dir.path(), {"range-test", dry_run_config, "--dry-run", "--run-dir", run_dir.string()});
    CHECK(again.status == 2);
    CHECK(again.err.find("autolrs: error: run_dir: ") == 0);
  }
}

TEST_CASE("autolrs range-test names a bad option") {
  TempDir dir;
  const auto run = run_autolrs(dir.path(), {"range-test", dry_run_config, "--dry-run", "--run-dir", (dir / "r").string(), "--points", "1"});
  CHECK(run.status == 2);
  CHECK(run.err == "autolrs: error: --points: must be in [2, 1000], got 1\n");
  CHECK_FALSE(fs::exists(dir / "r"));
}

TEST_CASE("autolrs run --log-format json prints one JSON event per line") {
  TempDir dir;
  const auto run = run_autolrs(dir.path(), {"run", dry_run_config, "--dry-run", "--run-dir", (dir / "run").string(), "--log-format", "json"});
  REQUIRE(run.status == 0);
  std::istringstream lines(run.out);
  int started = 0, finished = 0;
  nlohmann::json last;
  for (std::string line; std::getline(lines, line);) {
    last = nlohmann::json::parse(line);
    started += last["event"] == "launch_started";
    finished += last["event"] == "launch_finished";
  }
  // The peak search: 10 chains and a decay tail for each of the 9 that did not diverge (lr 1 does),
  // then rounds of 5, 3 and 2 chains, each with its tail; the hold; 8 decay stages.
  CHECK(started == 10 + 9 + 2 * (5 + 3 + 2) + 1 + 8);
  CHECK(finished == 10 + 9 + 2 * (5 + 3 + 2) + 1 + 8);
  CHECK(last["event"] == "run_finished");
  CHECK(last["summary"]["status"] == "completed");
  CHECK(last["summary"]["total_steps"] == 6000);

  SUBCASE("--quiet prints the one-line result only") {
    const auto quiet = run_autolrs(dir.path(), {"run", dry_run_config, "--dry-run", "--run-dir", (dir / "quiet").string(), "--quiet"});
    REQUIRE(quiet.status == 0);
    CHECK(std::regex_match(quiet.out, std::regex("autolrs: completed: 6000 model steps \\+ \\d+ probe steps \\(\\S+ per training step\\) in \\S+ s\n"
                                                 "final checkpoint: \\S+/checkpoints/step-000006000\n")));
  }
}
