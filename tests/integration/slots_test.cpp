#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run_binary.hpp"
#include "support/temp_dir.hpp"

using autolrs::testing::read_text;
using autolrs::testing::run_binary;
using autolrs::testing::shell_quote;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
namespace fs = std::filesystem;

namespace {

const std::string wrapper = std::string(AUTOLRS_FAKE_TRAINERS_DIR) + "/slot_timestamps.sh";
const std::string main_on_all_gpus = std::string(AUTOLRS_SOURCE_DIR) + "/scripts/slots/main-on-all-gpus";

/// A small dry-run (stages of 200, 400, 200 steps; 4 probes of a quarter stage, at LRs too small to
/// diverge, so every launch runs to its end) on 4 slots, each
/// with CUDA_VISIBLE_DEVICES=<its index> and tests/fake_trainers/slot_timestamps.sh as its
/// launcher, logging to <dir>/timestamps.log. With `span_main`, slot 0's launcher starts with
/// scripts/slots/main-on-all-gpus over GPUs 0-3, its torchrun faked by
/// tests/fake_trainers/fake_torchrun.sh logging to <dir>/torchrun.log.
nlohmann::json slots_spec(const TempDir& dir, bool span_main) {
  nlohmann::json slots = nlohmann::json::array();
  for (int slot = 0; slot < 4; ++slot) {
    nlohmann::json launcher = {wrapper, "s{stage}p{probe}", "--"};
    if (slot == 0 && span_main) launcher.insert(launcher.begin(), {main_on_all_gpus, "{probe}", "0,1,2,3", "--"});
    slots.push_back({{"env", {{"CUDA_VISIBLE_DEVICES", std::to_string(slot)}}}, {"launcher", launcher}});
  }
  return {
      {"name", "slots"},
      {"trainer",
       {{"command", {"unused-in-a-dry-run"}},
        {"env",
         {{"SLOT_TIMESTAMPS_LOG", (dir / "timestamps.log").string()},
          {"AUTOLRS_TORCHRUN", std::string(AUTOLRS_FAKE_TRAINERS_DIR) + "/fake_torchrun.sh"},
          {"FAKE_TORCHRUN_LOG", (dir / "torchrun.log").string()}}},
        {"loss", {{"pattern", "loss=(?P<loss>\\S+)"}}}}},
      // The paper preset: 4 BO probes in every stage, one per slot.
      {"search", {{"preset", "paper"}, {"lr_max", 0.1}, {"probes_per_stage", 4}, {"first_stage_steps", 200}, {"max_stage_steps", 400}, {"probe_fraction", 0.25}}},
      {"total_steps", 800},
      {"slots", slots},
      {"simulator", {{"task", "quadratic"}, {"step_ms", 2}}},
  };
}

/// One line of the wrapper's log.
struct SlotEvent {
  std::string event;  ///< "start" or "end"
  long long ns = 0;
  std::string launch;  ///< "s<stage>p<probe>", probe -1 for a stage launch
  std::string cuda_visible_devices;
};

std::vector<SlotEvent> read_events(const fs::path& path) {
  std::vector<SlotEvent> events;
  std::istringstream in(read_text(path));
  SlotEvent event;
  std::string slurm_step;
  while (in >> event.event >> event.ns >> event.launch >> event.cuda_visible_devices >> slurm_step) events.push_back(event);
  return events;
}

/// Most launches of stage `stage` running at once, from the start and end times of its probes.
int max_concurrent_probes(const std::vector<SlotEvent>& events, int stage) {
  std::multimap<long long, int> changes;  // time → +1 at a start, -1 at an end
  const std::string prefix = "s" + std::to_string(stage) + "p";
  for (const SlotEvent& event : events) {
    if (event.launch.rfind(prefix, 0) != 0 || event.launch == prefix + "-1") continue;
    changes.emplace(event.ns, event.event == "start" ? 1 : -1);
  }
  int running = 0, most = 0;
  for (const auto& [time, change] : changes) most = std::max(most, running += change);
  return most;
}

}  // namespace

TEST_CASE("autolrs run --dry-run on 4 slots runs a stage's probes at once, each with its slot's env, stages on slot 0") {
  TempDir dir;
  write_text(dir / "job.json", slots_spec(dir, true).dump(2));
  const fs::path run_dir = dir / "run";
  const auto result =
      run_binary({AUTOLRS_BINARY, "run", (dir / "job.json").string(), "--dry-run", "--run-dir", run_dir.string()}, dir);
  INFO(result.out, result.err);
  REQUIRE(result.exit_status == 0);
  const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
  CHECK(summary["status"] == "completed");
  CHECK(summary["total_steps"] == 800);
  // The paper preset trains each stage again from its start: all 4 probes a stage are search.
  CHECK(summary["probe_steps"] == 4 * 50 + 4 * 100 + 4 * 50);

  const std::vector<SlotEvent> events = read_events(dir / "timestamps.log");
  CHECK(events.size() == 2 * (3 * 4 + 3));  // a start and an end for each launch
  for (int stage = 0; stage < 3; ++stage) {
    CAPTURE(stage);
    CHECK(max_concurrent_probes(events, stage) >= 2);
    // The 4 probes, handed out together, went one to each slot; the stage launch went to slot 0,
    // whose launcher spread it over all 4 GPUs.
    std::set<std::string> probe_devices;
    for (const SlotEvent& event : events) {
      const std::string prefix = "s" + std::to_string(stage) + "p";
      if (event.launch == prefix + "-1") {
        CHECK(event.cuda_visible_devices == "0,1,2,3");
      } else if (event.launch.rfind(prefix, 0) == 0) {
        probe_devices.insert(event.cuda_visible_devices);
      }
    }
    CHECK(probe_devices == std::set<std::string>{"0", "1", "2", "3"});
  }
  const std::string torchrun_line =
      "--standalone --nproc_per_node=4 --monitor_interval=0.5 --redirects=9:1 --tee=9:1 CUDA_VISIBLE_DEVICES=0,1,2,3\n";
  CHECK(read_text(dir / "torchrun.log") == torchrun_line + torchrun_line + torchrun_line);
}

TEST_CASE("autolrs run --dry-run on slots, stopped by SIGTERM or SIGUSR1 mid-run, resumes to the uninterrupted schedule") {
  TempDir reference_dir;
  write_text(reference_dir / "job.json", slots_spec(reference_dir, false).dump(2));
  const auto reference = run_binary({AUTOLRS_BINARY, "run", (reference_dir / "job.json").string(), "--dry-run", "--run-dir",
                                     (reference_dir / "run").string()},
                                    reference_dir);
  REQUIRE(reference.exit_status == 0);

  for (const auto& [signal_name, exit_status] : std::vector<std::pair<std::string, int>>{{"TERM", 128 + SIGTERM},
                                                                                         {"USR1", 128 + SIGUSR1}}) {
    CAPTURE(signal_name);
    TempDir dir;
    write_text(dir / "job.json", slots_spec(dir, false).dump(2));
    const fs::path run_dir = dir / "run";
    const std::string run_command = shell_quote(AUTOLRS_BINARY) + " run " + shell_quote((dir / "job.json").string()) +
                                    " --dry-run --run-dir " + shell_quote(run_dir.string());
    // Signals the run once the second stage's probes have started (bounded wait), and exits with its status.
    const std::string script = run_command + " & pid=$!; for i in $(seq 600); do grep -q '^start .* s1p' " +
                               shell_quote((dir / "timestamps.log").string()) +
                               " 2>/dev/null && break; sleep 0.05; done; kill -" + signal_name + " $pid; wait $pid";
    const auto stopped = run_binary({"/bin/sh", "-c", script}, dir);
    INFO(stopped.out, stopped.err);
    REQUIRE(stopped.exit_status == exit_status);
    CHECK(stopped.err.find("continue with: autolrs run " + (dir / "job.json").string() + " --dry-run --run-dir " +
                           run_dir.string() + " --resume") != std::string::npos);
    CHECK(nlohmann::json::parse(read_text(run_dir / "summary.json"))["status"] == "interrupted");
    // The journal holds whole records only, and no end of the run.
    std::istringstream journal(read_text(run_dir / "journal.jsonl"));
    for (std::string line; std::getline(journal, line);) {
      const nlohmann::json record = nlohmann::json::parse(line);
      CHECK(record["type"] != "finished");
    }

    const auto resumed = run_binary({AUTOLRS_BINARY, "run", (dir / "job.json").string(), "--dry-run", "--run-dir",
                                     run_dir.string(), "--resume"},
                                    dir);
    INFO(resumed.out, resumed.err);
    REQUIRE(resumed.exit_status == 0);
    const nlohmann::json summary = nlohmann::json::parse(read_text(run_dir / "summary.json"));
    CHECK(summary["status"] == "completed");
    CHECK(summary["total_steps"] == 800);
    CHECK(read_text(run_dir / "schedule.csv") == read_text(reference_dir / "run" / "schedule.csv"));
    CHECK(fs::exists(run_dir / "losses.csv"));
    CHECK(fs::file_size(fs::path(summary["final_checkpoint"].get<std::string>())) > 0);
    // Launches cut short ran again: some launch of the second stage has two starts.
    std::map<std::string, int> starts;
    for (const SlotEvent& event : read_events(dir / "timestamps.log")) starts[event.launch] += event.event == "start";
    CHECK(std::any_of(starts.begin(), starts.end(), [](const auto& entry) {
      return entry.first.rfind("s1p", 0) == 0 && entry.second == 2;
    }));
  }
}
