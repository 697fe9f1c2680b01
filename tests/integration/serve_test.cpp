// Serve mode through the real binary: a trainer started once per slot that takes one JSON command
// per launch on stdin (docs/trainer-protocol.md, "Serve mode"), its equivalence with exec mode, and
// the faults of a server: each ends with the run completed, the journal whole and no process left.

#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using autolrs::testing::Finished;
using autolrs::testing::read_json;
using autolrs::testing::read_text;
using autolrs::testing::TempDir;
using nlohmann::json;

const std::string minimal_trainer = std::string(AUTOLRS_SOURCE_DIR) + "/scripts/trainers/minimal_trainer.py";

/// scripts/trainers/minimal_trainer.py in exec mode: the default search over 300 steps, 4 candidates.
json exec_spec(const fs::path& run_dir) {
  return {{"name", "serve"},
          {"trainer",
           {{"command", {"/usr/bin/python3", minimal_trainer, "--lr", "{lr}", "--lr-end", "{lr_end}", "--steps", "{steps}",
                         "--save", "{save_checkpoint}", "--seed", "{seed}"}},
            {"resume_args", {"--load", "{load_checkpoint}"}},
            {"loss", {{"pattern", "\\bloss=(?P<loss>\\S+)"}}}}},
          {"search",
           {{"lr_min", 1e-3}, {"lr_max", 0.5}, {"probes_per_stage", 4}, {"first_stage_steps", 50}, {"max_stage_steps", 100},
            {"probe_fraction", 0.2}}},
          {"total_steps", 300},
          {"seed", 5},
          {"run_dir", run_dir.string()}};
}

/// The same job in serve mode, with `command` as the trainer (default: minimal_trainer.py --serve).
json serve_spec(const fs::path& run_dir, const json& command = json()) {
  json spec = exec_spec(run_dir);
  spec["trainer"]["mode"] = "serve";
  spec["trainer"]["lr_ramps"] = true;
  spec["trainer"]["command"] = command.is_null() ? json{"/usr/bin/python3", minimal_trainer, "--serve"} : command;
  spec["trainer"].erase("resume_args");
  return spec;
}

Finished run(const TempDir& dir, const json& spec, const std::string& name) {
  return autolrs::testing::run_autolrs(dir, {"run", autolrs::testing::write_spec(dir, spec, name + ".json")});
}

/// Every line of the run's journal parses as JSON; returns the launches of its "issued" records and
/// the types of all its records.
std::pair<json, std::vector<std::string>> read_journal(const fs::path& run_dir) {
  json issued = json::array();
  std::vector<std::string> types;
  std::istringstream lines(read_text(run_dir / "journal.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const json record = json::parse(line);
    types.push_back(record.at("type"));
    if (record.at("type") == "issued") issued.push_back(record.at("launches"));
  }
  return {issued, types};
}

/// The serve-mode job run by tests/fake_trainers/serve_fault_trainer.py (it trains as minimal_trainer.py
/// does) with `fault` at the run's `at`-th command; its counter, pids and (through a slot launcher)
/// process groups are recorded in `dir`.
json faulty_serve_spec(const TempDir& dir, const std::string& fault, int at) {
  json spec = serve_spec(dir / "run", {std::string(AUTOLRS_FAKE_TRAINERS_DIR) + "/serve_fault_trainer.py"});
  spec["trainer"]["env"] = {{"SERVE_FAULT", fault},
                            {"SERVE_FAULT_AT", std::to_string(at)},
                            {"SERVE_COUNTER", (dir / "counter").string()},
                            {"SERVE_PIDS", (dir / "pids").string()}};
  spec["slots"] = {{{"launcher", autolrs::testing::group_recording_launcher(dir / "groups")}}};
  return spec;
}

/// Waits until faulty_serve_spec's trainer has received its `count`-th command (up to a minute: the
/// bound only keeps a broken run from hanging the test).
void wait_for_command(const TempDir& dir, int count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const auto received = [&] { return fs::exists(dir / "counter") && read_text(dir / "counter") == std::to_string(count); };
  while (!received() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(received());
}

/// `servers` trainer processes were started (their groups recorded by group_recording_launcher in
/// `dir`), and no process of any of their groups is left.
void check_servers_gone(const TempDir& dir, std::size_t servers) {
  const std::vector<pid_t> groups = autolrs::testing::recorded_groups(dir / "groups");
  CHECK(groups.size() == servers);
  for (pid_t group : groups) CHECK(autolrs::testing::survivors_of_group(group).empty());
}

}  // namespace

TEST_CASE("integration: a deterministic trainer decides, trains and saves the same in exec and serve mode") {
  TempDir dir;
  const Finished exec = run(dir, exec_spec(dir / "exec"), "exec");
  CAPTURE(exec.err);
  REQUIRE(exec.status == 0);
  // One server per slot: pids are recorded by a slot launcher, so it runs once for the whole run.
  json spec = serve_spec(dir / "serve");
  spec["slots"] = {{{"launcher", autolrs::testing::group_recording_launcher(dir / "groups")}}};
  const Finished serve = run(dir, spec, "serve");
  CAPTURE(serve.err);
  REQUIRE(serve.status == 0);

  CHECK(read_text(dir / "serve" / "schedule.csv") == read_text(dir / "exec" / "schedule.csv"));
  CHECK(read_text(dir / "serve" / "losses.csv") == read_text(dir / "exec" / "losses.csv"));
  CHECK(read_journal(dir / "serve").first == read_journal(dir / "exec").first);
  const json exec_summary = read_json(dir / "exec" / "summary.json");
  const json serve_summary = read_json(dir / "serve" / "summary.json");
  CHECK(serve_summary.at("status") == "completed");
  CHECK(serve_summary.at("total_steps") == 300);
  CHECK(read_text(serve_summary.at("final_checkpoint").get<std::string>()) ==
        read_text(exec_summary.at("final_checkpoint").get<std::string>()));
  check_servers_gone(dir, 1);
  // Each launch has its own logs: the first probe's stdout holds its loss lines and not the completion.
  const std::string first_log = read_text(dir / "serve" / "logs" / "stage-000-probe-00.stdout.log");
  CHECK(first_log.rfind("step=1 loss=", 0) == 0);
  CHECK(first_log.find("{\"autolrs\": \"done\", \"id\": \"stage-000-probe-00\"}\n") != std::string::npos);
}

TEST_CASE("integration: a server that breaks off a command is killed and replaced, and the run completes") {
  struct Fault {
    std::string name;
    int at;               ///< the command of the run that the fault hits (1: the first probe's)
    std::string reason;   ///< in the failed launch's reason
    int servers;          ///< servers started in the run
  };
  const std::vector<Fault> faults = {
      {"kill", 2, "killed by signal 9 (SIGKILL)", 2},
      {"hang", 2, "printed nothing for trainer.idle_timeout_s", 2},
      {"wrong_id", 2, "serve mode: printed the completion of command stage-999-probe-99 while running stage-000-probe-01", 2},
      {"close_stdin", 2, "serve mode: closed its stdin before completing its command", 2},
      // Completes, then exits: found gone before the next command (a fresh server takes it), or gone
      // while the next command is in flight (that launch fails), as the exit and the command race.
      {"exit", 2, "serve mode: exited with status 0 before completing its command", 2},
  };
  for (const Fault& fault : faults) {
    CAPTURE(fault.name);
    TempDir dir;
    json spec = faulty_serve_spec(dir, fault.name, fault.at);
    spec["trainer"]["idle_timeout_s"] = 2;
    const Finished finished = run(dir, spec, "job");
    CAPTURE(finished.err);
    CHECK(finished.status == 0);
    const json summary = read_json(dir / "run" / "summary.json");
    CHECK(summary.at("status") == "completed");
    CHECK(summary.at("total_steps") == 300);

    std::vector<std::string> failed_reasons;
    for (const json& stage : summary.at("stages")) {
      for (const json& probe : stage.at("probes")) {
        if (probe.at("status") != "ok") failed_reasons.push_back(probe.at("reason"));
      }
    }
    if (fault.name != "exit" || !failed_reasons.empty()) {
      REQUIRE(failed_reasons.size() == 1);
      CHECK(failed_reasons.front().find(fault.reason) != std::string::npos);
    }
    const auto [issued, types] = read_journal(dir / "run");
    CHECK(types.front() == "started");
    CHECK(types.back() == "finished");
    check_servers_gone(dir, static_cast<std::size_t>(fault.servers));
  }
}

TEST_CASE("integration: SIGTERM stops a serve-mode run mid-command and leaves no server behind") {
  TempDir dir;
  json spec = faulty_serve_spec(dir, "hang", 3);
  const pid_t pid = autolrs::testing::spawn_autolrs({"run", autolrs::testing::write_spec(dir, spec)}, dir / "out", dir / "err");
  wait_for_command(dir, 3);  // the command that hangs
  ::kill(pid, SIGTERM);
  CHECK(autolrs::testing::wait_for_exit(pid).status == 128 + SIGTERM);
  check_servers_gone(dir, 1);
  CHECK(read_json(dir / "run" / "summary.json").at("status") == "interrupted");
}

TEST_CASE("integration: a serve-mode run SIGKILLed mid-command resumes, clearing what its server left, to the uninterrupted result") {
  TempDir dir;
  const Finished reference = run(dir, serve_spec(dir / "reference"), "reference");
  REQUIRE(reference.status == 0);
  // Its third command hangs (once in the run), to be killed there.
  json spec = faulty_serve_spec(dir, "hang", 3);
  const std::string spec_path = autolrs::testing::write_spec(dir, spec);
  const pid_t pid = autolrs::testing::spawn_autolrs({"run", spec_path}, dir / "out", dir / "err");
  wait_for_command(dir, 3);
  ::kill(pid, SIGKILL);
  CHECK(autolrs::testing::wait_for_exit(pid).status == -SIGKILL);
  const std::vector<pid_t> killed_run_groups = autolrs::testing::recorded_groups(dir / "groups");
  REQUIRE(killed_run_groups.size() == 1);

  // The server died with autolrs (PR_SET_PDEATHSIG); the resume ends the worker its group left.
  const Finished resumed = autolrs::testing::run_autolrs(dir, {"run", spec_path, "--resume"});
  CAPTURE(resumed.err);
  REQUIRE(resumed.status == 0);
  check_servers_gone(dir, 2);  // the killed run's and the resumed run's
  CHECK(read_text(dir / "run" / "schedule.csv") == read_text(dir / "reference" / "schedule.csv"));
  CHECK(read_text(read_json(dir / "run" / "summary.json").at("final_checkpoint").get<std::string>()) ==
        read_text(read_json(dir / "reference" / "summary.json").at("final_checkpoint").get<std::string>()));
}

TEST_CASE("integration: validate --launch checks a serve-mode trainer in three commands to one server") {
  TempDir dir;
  json spec = serve_spec(dir / "run");
  spec["slots"] = {{{"launcher", autolrs::testing::group_recording_launcher(dir / "groups")}}};
  const Finished finished = autolrs::testing::run_autolrs(dir, {"validate", autolrs::testing::write_spec(dir, spec), "--launch"});
  CAPTURE(finished.err);
  CHECK(finished.status == 0);
  CHECK(finished.out.find("  first command: {\"global_step\":0,\"id\":\"stage-000-probe-00\",\"load_checkpoint\":null,") !=
        std::string::npos);
  CHECK(finished.out.find("[stage 0 of 1] train ") != std::string::npos);
  CHECK(finished.out.find("\ntrainer check passed: every launch printed losses the patterns match and wrote {save_checkpoint}") !=
        std::string::npos);
  check_servers_gone(dir, 1);
  CHECK(!fs::exists(dir / "run"));
}

TEST_CASE("integration: serve mode with two slots keeps one server per slot and completes") {
  TempDir dir;
  json spec = serve_spec(dir / "run");
  const json launcher = autolrs::testing::group_recording_launcher(dir / "groups");
  spec["slots"] = {{{"launcher", launcher}}, {{"launcher", launcher}}};
  const Finished finished = run(dir, spec, "job");
  CAPTURE(finished.err);
  REQUIRE(finished.status == 0);
  const json summary = read_json(dir / "run" / "summary.json");
  CHECK(summary.at("status") == "completed");
  CHECK(summary.at("total_steps") == 300);
  check_servers_gone(dir, 2);
}
