#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include "storage/run_dir_lock.hpp"
#include "support/run_binary.hpp"
#include "support/temp_dir.hpp"

using autolrs::testing::read_text;
using autolrs::testing::run_binary;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
  return fields;
}

/// A spec for tests/fake_trainers/keyvalue_trainer.py: key=value arguments, losses on stderr behind
/// a timestamp with train and val on one line, no checkpoint argument on the first launch.
nlohmann::json keyvalue_spec(const TempDir& dir) {
  return {
      {"name", "keyvalue"},
      {"trainer",
       {{"command", {std::string(AUTOLRS_FAKE_TRAINERS_DIR) + "/keyvalue_trainer.py", "lr={lr}", "steps={steps}",
                     "out={save_checkpoint}", "seed={seed}"}},
        {"resume_args", {"init={load_checkpoint}"}},
        {"env", {{"ARGV_LOG", (dir / "argv.jsonl").string()}}},
        {"loss", {{"pattern", R"(it (?P<step>\d+) \| loss (?P<loss>\S+))"}, {"stream", "stderr"}}},
        {"val_loss", {{"pattern", R"(\| val (?P<loss>\S+))"}, {"stream", "stderr"}}}}},
      {"search",
       {{"lr_min", 1e-3}, {"lr_max", 0.9}, {"probes_per_stage", 3}, {"first_stage_steps", 50}, {"max_stage_steps", 100},
        {"probe_fraction", 0.2}, {"preset", "paper"}}},
      {"total_steps", 250},
      {"seed", 3},
      {"run_dir", (dir / "run").string()},
  };
}

}  // namespace

TEST_CASE("autolrs run --dry-run on configs/dry-run.json completes with every output in place") {
  TempDir dir;
  const fs::path run_dir = dir / "dry-run";
  const auto result = run_binary({AUTOLRS_BINARY, "run", std::string(AUTOLRS_SOURCE_DIR) + "/configs/dry-run.json",
                                  "--dry-run", "--run-dir", run_dir.string()},
                                 dir);
  INFO(result.err);
  REQUIRE(result.exit_status == 0);

  const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
  CHECK(summary["status"] == "completed");
  CHECK(summary["total_steps"] == 6000);
  CHECK(summary["probe_steps"].get<long>() > 0);
  CHECK(summary["compute_steps"] == summary["total_steps"].get<long>() + summary["probe_steps"].get<long>());
  CHECK(summary["final_loss"].is_number());
  CHECK(summary["final_val_loss"].is_number());
  CHECK(summary["wall_time_s"].get<double>() > 0);
  const fs::path final_checkpoint = summary["final_checkpoint"].get<std::string>();
  CHECK(final_checkpoint.is_absolute());
  CHECK(fs::file_size(final_checkpoint) > 0);
  REQUIRE(summary["stages"].size() >= 3);
  // The default preset: 10 candidates in stage 0, in rounds of 10, 5, 3 and 2 to horizons of 75, 150,
  // 300 and 900 steps; the winner holds to 1200; 8 decay stages of 600 steps follow, without probes.
  REQUIRE(summary["stages"].size() == 9);
  const auto& search_stage = summary["stages"][0];
  CHECK(search_stage["steps"] == 1200);
  CHECK(search_stage["probe_steps"] == 900);
  REQUIRE(search_stage["probes"].size() == 10);
  std::vector<int> rounds;
  for (const auto& probe : search_stage["probes"]) {
    rounds.push_back(probe["rounds"].get<int>());
    const long chain_steps[] = {0, 75, 150, 300, 900};
    if (probe["status"] == "ok") CHECK(probe["steps"] == chain_steps[probe["rounds"].get<int>()]);
    if (probe["status"] == "ok") CHECK(probe["end_loss"].is_number());
  }
  std::sort(rounds.begin(), rounds.end());
  CHECK(rounds == std::vector<int>{1, 1, 1, 1, 1, 2, 2, 3, 4, 4});
  const int winner = search_stage["winner_probe"].get<int>();
  CHECK(search_stage["probes"][static_cast<size_t>(winner)]["rounds"] == 4);
  const double peak = search_stage["lr"].get<double>();
  CHECK(search_stage["probes"][static_cast<size_t>(winner)]["lr"].get<double>() == peak);
  // The simulator's loss at these LRs is mostly the LR's noise: a decay tail removes a large share of it.
  CHECK(summary["decay"]["shape"] == "cubic");
  CHECK(summary["decay"]["anneal_gain"].get<double>() >= 0.1);  // PeakDecaySearch::noise_limited_gain
  for (size_t index = 1; index < summary["stages"].size(); ++index) {
    const auto& stage = summary["stages"][index];
    CHECK(stage["probes"].empty());
    CHECK(stage["steps"] == 600);
    // A cubic decay from the peak to 0 over steps 1200-6000, as ramps along the curve.
    const double start = (600.0 * static_cast<double>(index - 1)) / 4800, end = (600.0 * static_cast<double>(index)) / 4800;
    CHECK(stage["lr"].get<double>() == doctest::Approx(peak * std::pow(1 - start, 3)));
    CHECK(stage["lr_end"].get<double>() == doctest::Approx(peak * std::pow(1 - end, 3)));
  }

  const std::vector<std::string> schedule = lines_of(read_text(run_dir / "schedule.csv"));
  REQUIRE(schedule.size() == summary["stages"].size() + 1);
  CHECK(schedule[0] == "stage,start_step,steps,lr,lr_end");
  CHECK(schedule[1].rfind("0,0,1200,", 0) == 0);
  long next_start = 0;
  for (size_t row = 1; row < schedule.size(); ++row) {
    const auto fields = split_csv(schedule[row]);
    REQUIRE(fields.size() == 5);
    CHECK(std::stol(fields[1]) == next_start);
    next_start += std::stol(fields[2]);
    CHECK(std::stod(fields[3]) == summary["stages"][row - 1]["lr"].get<double>());
    CHECK(std::stod(fields[4]) == summary["stages"][row - 1]["lr_end"].get<double>());
  }
  CHECK(next_start == 6000);

  const std::vector<std::string> losses = lines_of(read_text(run_dir / "losses.csv"));
  REQUIRE(losses.size() > 1);
  CHECK(losses[0] == "kind,stage,probe,lr,step,loss,split");
  // The simulator prints one loss per model step: the stage launches' plus those of the winner's chain
  // (its rounds' probe launches) cover all 6000.
  const std::string winner_rows = "probe,0," + std::to_string(winner) + ",";
  size_t training_rows = 0, decay_rows = 0;
  for (const std::string& line : losses) {
    decay_rows += line.rfind("decay,", 0) == 0;
    if (line.size() < 6 || line.substr(line.size() - 6) != ",train") continue;
    training_rows += line.rfind("stage,", 0) == 0 || line.rfind(winner_rows, 0) == 0;
  }
  CHECK(training_rows == 6000);
  CHECK(decay_rows > 0);
  const auto first_probe_loss = split_csv(losses[1]);
  CHECK(first_probe_loss[0] == "probe");
  CHECK(first_probe_loss[1] == "0");
  CHECK(first_probe_loss[2] == "0");
  CHECK(first_probe_loss[4] == "1");
  CHECK(first_probe_loss[6] == "train");

  CHECK(fs::file_size(run_dir / "logs" / "stage-000-probe-00.stdout.log") > 0);
  CHECK(fs::exists(run_dir / "logs" / "stage-000.stderr.log"));
  CHECK(result.out.find("autolrs: completed: 6000 model steps") != std::string::npos);
  CHECK(result.out.find("[stage 0 of 9] probe 0 of 10") != std::string::npos);
  // The last line names every output, the report first.
  CHECK(result.out.ends_with("outputs: " + run_dir.string() + "/{report.html,summary.json,schedule.csv,losses.csv,logs/}\n"));
}

TEST_CASE("autolrs run drives a trainer of another CLI shape by its spec alone, with the exact argv") {
  TempDir dir;
  write_text(dir / "job.json", keyvalue_spec(dir).dump(2));
  const auto result = run_binary({AUTOLRS_BINARY, "run", (dir / "job.json").string()}, dir);
  INFO(result.out, result.err);
  REQUIRE(result.exit_status == 0);

  const fs::path run_dir = dir / "run";
  const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
  CHECK(summary["status"] == "completed");
  CHECK(summary["total_steps"] == 250);  // stages of 50, 100, 100
  CHECK(summary["stages"].size() == 3);
  CHECK(summary["probe_steps"] == 3 * 10 + 3 * 20 + 3 * 20);
  CHECK(summary["final_val_loss"].is_number());
  CHECK(summary["final_loss"].get<double>() < 1.0);  // from 9.5 at w = 0 towards the floor of 0.5

  std::vector<nlohmann::json> argvs;
  for (const std::string& line : lines_of(read_text(dir / "argv.jsonl"))) argvs.push_back(nlohmann::json::parse(line));
  REQUIRE(argvs.size() == 12);
  const std::string first_lr = argvs[0][0].get<std::string>();
  CHECK(argvs[0] == nlohmann::json({first_lr, "steps=10", "out=" + (run_dir / "checkpoints/stage-000-probe-00.staging").string(), "seed=3"}));
  const nlohmann::json& first_stage = argvs[3];
  CHECK(first_stage[1] == "steps=50");
  CHECK(first_stage[2] == "out=" + (run_dir / "checkpoints/step-000000050.staging").string());
  CHECK(first_stage.size() == 4);  // no init= on a launch from scratch
  const nlohmann::json& second_stage_probe = argvs[4];
  CHECK(second_stage_probe[1] == "steps=20");
  CHECK(second_stage_probe[4] == "init=" + (run_dir / "checkpoints/step-000000050").string());
  CHECK(argvs[11][4] == "init=" + (run_dir / "checkpoints/step-000000150").string());
  // The stage launch runs at the LR the stage chose.
  CHECK(first_stage[0] == "lr=" + summary["stages"][0]["lr"].dump());

  // Train and val losses came from the one stderr line, at the trainer's own step numbers.
  const std::string losses = read_text(run_dir / "losses.csv");
  CHECK(losses.find("\nstage,0,-1,") != std::string::npos);
  CHECK(losses.find(",5,") != std::string::npos);
  size_t val_rows = 0;
  for (const std::string& line : lines_of(losses)) val_rows += line.size() > 4 && line.substr(line.size() - 4) == ",val";
  CHECK(val_rows == (250 + 3 * 10 + 3 * 20 + 3 * 20) / 5);
}

TEST_CASE("autolrs run refuses a bad spec with exit 2, naming the field, and writes nothing") {
  TempDir dir;
  nlohmann::json spec = keyvalue_spec(dir);
  spec["search"]["lr_min"] = -0.1;
  write_text(dir / "job.json", spec.dump());
  const auto result = run_binary({AUTOLRS_BINARY, "run", (dir / "job.json").string()}, dir);
  CHECK(result.exit_status == 2);
  CHECK(result.err == "autolrs: error: search.lr_min: must be > 0, got -0.1\n");
  CHECK_FALSE(fs::exists(dir / "run"));
}

TEST_CASE("autolrs run refuses a run dir another autolrs holds, and takes it once that one has ended") {
  TempDir dir;
  write_text(dir / "job.json", keyvalue_spec(dir).dump());
  const std::string spec_path = (dir / "job.json").string();
  fs::create_directories(dir / "run");
  {
    // This test process stands in for a running autolrs: it holds the run dir's lock.
    const auto holder = autolrs::storage::RunDirLock::try_acquire((dir / "run").string());
    REQUIRE(holder);
    const auto refused = run_binary({AUTOLRS_BINARY, "run", spec_path}, dir);
    CHECK(refused.exit_status == 2);
    CHECK(refused.err == "autolrs: error: run_dir: " + (dir / "run").string() + " is in use by another autolrs (pid " +
                             std::to_string(::getpid()) + "); wait for it to end or stop it, or choose another run_dir\n");
    CHECK_FALSE(fs::exists(dir / "run" / "journal.jsonl"));
  }
  const auto taken = run_binary({AUTOLRS_BINARY, "run", spec_path}, dir);
  CHECK(taken.exit_status == 0);
  CHECK(fs::exists(dir / "run" / "summary.json"));
}

TEST_CASE("autolrs run refuses a run dir holding a run unless --resume, and --resume without one") {
  TempDir dir;
  write_text(dir / "job.json", keyvalue_spec(dir).dump());
  const std::string spec_path = (dir / "job.json").string();
  const auto resume_nothing = run_binary({AUTOLRS_BINARY, "run", spec_path, "--resume"}, dir);
  CHECK(resume_nothing.exit_status == 2);
  CHECK(resume_nothing.err.find("no run to resume") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "run"));

  REQUIRE(run_binary({AUTOLRS_BINARY, "run", spec_path}, dir).exit_status == 0);
  const std::string schedule = read_text(dir / "run" / "schedule.csv");
  const auto again = run_binary({AUTOLRS_BINARY, "run", spec_path}, dir);
  CHECK(again.exit_status == 2);
  CHECK(again.err.find("already holds a run; continue it with --resume") != std::string::npos);

  // Resuming a completed run launches nothing and leaves the schedule as it was.
  const size_t launches_before = lines_of(read_text(dir / "argv.jsonl")).size();
  const auto resumed = run_binary({AUTOLRS_BINARY, "run", spec_path, "--resume"}, dir);
  CHECK(resumed.exit_status == 0);
  CHECK(lines_of(read_text(dir / "argv.jsonl")).size() == launches_before);
  CHECK(read_text(dir / "run" / "schedule.csv") == schedule);
}
