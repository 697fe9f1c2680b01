#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::testing::read_text;
using autolrs::testing::run_autolrs;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
namespace fs = std::filesystem;

/// The val losses of one kind of launch in losses.csv (kind,stage,probe,lr,step,loss,split), in order.
std::vector<double> val_losses(const std::string& csv, const std::string& kind, int stage, int probe) {
  std::vector<double> losses;
  std::istringstream lines(csv);
  const std::string prefix = kind + "," + std::to_string(stage) + "," + std::to_string(probe) + ",";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0 || line.substr(line.size() - 4) != ",val") continue;
    const std::string without_split = line.substr(0, line.size() - 4);
    losses.push_back(std::stod(without_split.substr(without_split.rfind(',') + 1)));
  }
  return losses;
}

/// Whether /usr/bin/python3 has torch and sklearn. Without them a test is skipped, and fails in CI
/// (CI=true, set by .ci/run).
bool torch_available() {
  if (std::system("/usr/bin/python3 -c 'import torch, sklearn' >/dev/null 2>&1") == 0) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") FAIL("/usr/bin/python3 cannot import torch and sklearn (Debian's python3-torch, python3-sklearn: scripts/install-deps --test)");
  MESSAGE("skipped: /usr/bin/python3 cannot import torch and sklearn (Debian's python3-torch, python3-sklearn: scripts/install-deps --test)");
  return false;
}

/// configs/<name> cut to the small job below, its trainer run from configs/, written to `path`.
void write_small_torch_job(const std::string& name, const fs::path& path) {
  const fs::path configs = fs::path(AUTOLRS_SOURCE_DIR) / "configs";
  nlohmann::json spec = nlohmann::json::parse(read_text(configs / name));
  spec["trainer"]["workdir"] = configs.string();
  spec["total_steps"] = 300;
  spec["search"]["first_stage_steps"] = 100;
  spec["search"]["max_stage_steps"] = 200;
  spec["search"]["probes_per_stage"] = 4;
  spec["search"]["lr_min"] = 1e-3;
  spec["search"]["lr_max"] = 0.2;
  write_text(path, spec.dump(2));
}

}  // namespace

// configs/torch-example.json cut to 300 steps and 4 candidates in [1e-3, 0.2]: the peak search runs
// rounds of 4 and 2 chains to 15 and 45 steps, each chain followed by a decay tail (2 and 6 steps);
// the winner holds to step 60; 8 decay launches of 30 steps follow. 21 launches that each pay the
// torch import (3 s idle; 7 to 23 s on a loaded 2-core machine). The range is cut because 15-step
// chains are too short to show that LRs of 0.3 and up stall this network later.
TEST_CASE("autolrs run trains the PyTorch example and its loss falls") {
  if (!torch_available()) return;
  TempDir dir;
  write_small_torch_job("torch-example.json", dir / "torch-small.json");
  const fs::path run_dir = dir / "run";

  const auto run = run_autolrs(dir.path(), {"run", (dir / "torch-small.json").string(), "--run-dir", run_dir.string()});
  INFO(run.out);
  INFO(run.err);
  REQUIRE(run.status == 0);
  const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
  CHECK(summary["status"] == "completed");
  CHECK(summary["total_steps"] == 300);
  // H = 30: chains of 4 x 15 and 2 x 30 steps (to 15, then 45), tails of 4 x 2 and 2 x 6; the winner's
  // chain is training.
  CHECK(summary["probe_steps"] == (4 * 15 + 2 * 30) + (4 * 2 + 2 * 6) - 45);
  REQUIRE(summary["stages"].size() == 9);
  for (const char* output : {"journal.jsonl", "schedule.csv", "losses.csv", "logs/stage-008.stdout.log"}) {
    CAPTURE(output);
    CHECK(fs::exists(run_dir / output));
  }
  REQUIRE(summary["final_checkpoint"].is_string());
  CHECK(fs::exists(summary["final_checkpoint"].get<std::string>()));

  const std::string losses = read_text(run_dir / "losses.csv");
  const std::vector<double> first_probe = val_losses(losses, "probe", 0, 0);
  const std::vector<double> last_stage = val_losses(losses, "stage", 8, -1);
  REQUIRE_FALSE(first_probe.empty());
  REQUIRE_FALSE(last_stage.empty());
  CHECK(last_stage.back() < first_probe.front());
  CHECK(summary["final_val_loss"].get<double>() == doctest::Approx(last_stage.back()));
}

// The same job with configs/torch-example-serve.json: one torch_digits.py --serve for the 21 launches.
// On the CPU the trainer is deterministic, so serve mode must train exactly what exec mode trains.
TEST_CASE("autolrs run in serve mode trains the PyTorch example exactly as exec mode does") {
  if (!torch_available()) return;
  TempDir dir;
  write_small_torch_job("torch-example.json", dir / "exec.json");
  write_small_torch_job("torch-example-serve.json", dir / "serve.json");
  for (const char* mode : {"exec", "serve"}) {
    const auto run = run_autolrs(dir.path(), {"run", (dir / (std::string(mode) + ".json")).string(), "--run-dir",
                                              (dir / mode).string()});
    INFO(run.err);
    REQUIRE(run.status == 0);
  }
  const nlohmann::json exec = nlohmann::json::parse(read_text(dir / "exec" / "summary.json"));
  const nlohmann::json serve = nlohmann::json::parse(read_text(dir / "serve" / "summary.json"));
  CHECK(serve["status"] == "completed");
  REQUIRE(serve["final_val_loss"].is_number());
  CHECK(serve["final_val_loss"] == exec["final_val_loss"]);
  CHECK(serve["final_loss"] == exec["final_loss"]);
  CHECK(read_text(dir / "serve" / "schedule.csv") == read_text(dir / "exec" / "schedule.csv"));
  CHECK(read_text(dir / "serve" / "losses.csv") == read_text(dir / "exec" / "losses.csv"));
  // One process served every launch: each launch's timing line reports the one torch import it paid.
  std::set<std::string> import_times;
  std::size_t launches = 0;
  for (const auto& entry : fs::directory_iterator(dir / "serve" / "logs")) {
    const std::string log = read_text(entry.path());
    const std::size_t at = log.find(" import_s=");
    if (at == std::string::npos) continue;
    ++launches;
    import_times.insert(log.substr(at, log.find(' ', at + 1) - at));
  }
  CHECK(launches == 21);
  CHECK(import_times.size() == 1);
}
