// Fault injection through the real binary: `autolrs run --dry-run` with the simulator's fault
// options (docs/simulator.md), asserting exit statuses, summary.json, the console and the files left.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
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

/// Two stages of 100 steps, four probes of 20 steps each, LR in [1e-4, 1]: about 10 launches, each
/// a few milliseconds of simulation. The quadratic task diverges above LR ≈ 0.38.
json small_spec() {
  return {{"name", "faults"},
          {"trainer", {{"command", {"unused-in-dry-run"}}, {"loss", {{"pattern", "loss=(?P<loss>\\S+)"}}}}},
          // The stagewise preset: stages of 100 steps whose probes all run from the stage's start, so that
          // step and LR faults hit the probes the checks below count.
          {"search",
           {{"preset", "stagewise"}, {"lr_min", 1e-4}, {"lr_max", 1.0}, {"probes_per_stage", 4}, {"first_stage_steps", 100},
            {"max_stage_steps", 100}, {"probe_fraction", 0.2}}},
          {"total_steps", 200},
          {"seed", 0},
          {"simulator", {{"val_every", 10}}}};
}

/// Runs `autolrs run <spec> --dry-run --run-dir <dir>/run` (plus `extra` arguments).
Finished run_dry(const TempDir& dir, const json& spec, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"run", autolrs::testing::write_spec(dir, spec), "--dry-run", "--run-dir",
                                (dir / "run").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return autolrs::testing::run_autolrs(dir, args);
}

/// The probes of all stages in summary.json.
std::vector<json> probes_of(const json& summary) {
  std::vector<json> probes;
  for (const json& stage : summary.at("stages")) {
    for (const json& probe : stage.at("probes")) probes.push_back(probe);
  }
  return probes;
}

/// The probes whose status is `status`, checking that each reason contains `reason_part`.
std::vector<json> probes_with(const json& summary, const std::string& status, const std::string& reason_part) {
  std::vector<json> matching;
  for (const json& probe : probes_of(summary)) {
    if (probe.at("status") != status) continue;
    CAPTURE(probe.dump());
    CHECK(probe.at("reason").get<std::string>().find(reason_part) != std::string::npos);
    matching.push_back(probe);
  }
  return matching;
}

/// The run completed every stage, stage 0 at an LR at or below `lr_limit`: the faults hit only
/// launches above it (step faults at steps below 100 reach stage 0's launches only).
void check_completed(const Finished& run, const json& summary, double lr_limit) {
  CAPTURE(run.out);
  CAPTURE(run.err);
  CHECK(run.status == 0);
  CHECK(summary.at("status") == "completed");
  CHECK(summary.at("total_steps") == summary.at("target_steps"));
  for (const json& stage : summary.at("stages")) CHECK(stage.at("completed") == true);
  CHECK(summary.at("stages").at(0).at("lr").get<double>() <= lr_limit);
}

/// Staging leftovers in the run's checkpoint folder (none may stay after a run).
std::vector<std::string> staging_leftovers(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "run" / "checkpoints")) {
    const std::string name = entry.path().filename();
    if (name.find(".staging") != std::string::npos) names.push_back(name);
  }
  return names;
}

TEST_CASE("integration: probes that crash, turn NaN or write no checkpoint are recorded and the search goes on") {
  struct Fault {
    std::string name;
    json simulator;
    const char* status;
    const char* reason;
  };
  const std::vector<Fault> faults = {
      {"crash", {{"crash_at_step", 10}}, "failed", "exited with status 3"},
      {"nan", {{"nan_from_step", 10}}, "diverged", "loss diverged"},
      {"missing checkpoint", {{"skip_checkpoint", true}}, "failed", "no checkpoint written"},
  };
  const double lr_limit = 0.01;
  for (const Fault& fault : faults) {
    CAPTURE(fault.name);
    TempDir dir;
    json spec = small_spec();
    spec["simulator"].update(fault.simulator);
    spec["simulator"]["faults_lr_above"] = lr_limit;
    const Finished run = run_dry(dir, spec);
    const json summary = read_json(dir / "run" / "summary.json");
    check_completed(run, summary, lr_limit);
    const std::vector<json> hit = probes_with(summary, fault.status, fault.reason);
    CHECK(!hit.empty());
    for (const json& probe : hit) CHECK(probe.at("lr").get<double>() > lr_limit);
    CHECK(staging_leftovers(dir).empty());
    // Stage 0 chose its LR on the probes that were judged, fewer than its 4, and says so.
    const json& first = summary.at("stages").at(0);
    const int judged = first.at("probes_judged").get<int>();
    CHECK(judged >= 1);
    CHECK(judged < 4);
    CHECK(run.out.find("(its LR chosen on " + std::to_string(judged) + " of 4 probes)") != std::string::npos);
  }
}

/// (stage, probe) → the last global step of the probe's train losses in losses.csv
/// ("kind,stage,probe,lr,step,loss,split" rows).
std::map<std::pair<int, int>, long> last_probe_steps(const std::string& losses_csv) {
  std::map<std::pair<int, int>, long> last;
  std::istringstream rows(losses_csv);
  std::string row;
  std::getline(rows, row);  // header
  while (std::getline(rows, row)) {
    std::vector<std::string> cells;
    std::istringstream fields(row);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    REQUIRE(cells.size() == 7);
    if (cells[0] != "probe" || cells[6] != "train") continue;
    long& step = last[{std::stoi(cells[1]), std::stoi(cells[2])}];
    step = std::max(step, std::stol(cells[4]));
  }
  return last;
}

TEST_CASE("integration: a probe whose loss explodes is stopped before its last step") {
  TempDir dir;
  json spec = small_spec();
  spec["search"].update({{"lr_min", 0.01}, {"lr_max", 10.0}});  // the quadratic task diverges above 0.38
  spec["trainer"]["divergence_factor"] = 3;
  spec["slots"] = {{{"launcher", autolrs::testing::group_recording_launcher(dir / "groups")}}};
  const Finished run = run_dry(dir, spec);
  const json summary = read_json(dir / "run" / "summary.json");
  check_completed(run, summary, 0.38);
  const std::vector<json> diverged = probes_with(summary, "diverged", "loss diverged");
  REQUIRE(!diverged.empty());
  for (pid_t group : autolrs::testing::recorded_groups(dir / "groups")) {
    CAPTURE(group);
    CHECK(autolrs::testing::live_processes_in_group(group).empty());
  }
  // Every probe's budget is 20 steps; the stopped ones ran fewer.
  const long budget = 20 * static_cast<long>(probes_of(summary).size());
  CHECK(summary.at("probe_steps").get<long>() < budget);
  // losses.csv holds the losses each launch printed: the stopped probes' end short of step 20.
  const std::map<std::pair<int, int>, long> last_steps = last_probe_steps(read_text(dir / "run" / "losses.csv"));
  for (const json& stage : summary.at("stages")) {
    for (size_t probe = 0; probe < stage.at("probes").size(); ++probe) {
      const json& record = stage.at("probes").at(probe);
      CAPTURE(record.dump());
      const long last_step = last_steps.at({stage.at("stage").get<int>(), static_cast<int>(probe)});
      const long stage_start = stage.at("start_step").get<long>();
      if (record.at("status") == "diverged") {
        CHECK(last_step < stage_start + 20);
      } else {
        CHECK(last_step == stage_start + 20);
      }
    }
  }
}

TEST_CASE("integration: hung and overlong probes are killed on the idle and wall timeouts, and their whole group goes") {
  struct Timeout {
    std::string name;
    const char* field;
    const char* reason;
    bool ignore_sigterm;  ///< then only SIGKILL, after the 5 s grace, ends the trainer
  };
  for (const Timeout& timeout : {Timeout{"idle", "idle_timeout_s", "printed nothing for trainer.idle_timeout_s", true},
                                 Timeout{"wall", "timeout_s", "ran past trainer.timeout_s", false}}) {
    CAPTURE(timeout.name);
    TempDir dir;
    json spec = small_spec();
    const double lr_limit = 0.05;  // few probes hang
    spec["simulator"].update(
        {{"hang_at_step", 10}, {"ignore_sigterm", timeout.ignore_sigterm}, {"faults_lr_above", lr_limit}});
    spec["trainer"][timeout.field] = 1;
    spec["slots"] = {{{"launcher", autolrs::testing::group_recording_launcher(dir / "groups")}}};
    const Finished run = run_dry(dir, spec);
    const json summary = read_json(dir / "run" / "summary.json");
    check_completed(run, summary, lr_limit);
    CHECK(!probes_with(summary, "failed", timeout.reason).empty());

    // Each launch's group, its worker included, is gone by the time its launch is over.
    const std::vector<pid_t> groups = autolrs::testing::recorded_groups(dir / "groups");
    CHECK(groups.size() == summary.at("launches").get<size_t>());
    for (pid_t group : groups) {
      CAPTURE(group);
      CHECK(autolrs::testing::live_processes_in_group(group).empty());
    }
  }
}

TEST_CASE("integration: junk output and a 100 MB line neither break the run nor grow autolrs's memory") {
  TempDir dir;
  json spec = small_spec();
  spec["search"]["probes_per_stage"] = 2;
  spec["total_steps"] = 100;  // one stage: three launches, each printing the 100 MB line
  spec["simulator"].update({{"junk_lines", true}, {"long_line_bytes", 100'000'000}});
  const Finished run = run_dry(dir, spec);
  const json summary = read_json(dir / "run" / "summary.json");
  check_completed(run, summary, 1.0);
  CHECK(summary.at("final_loss").is_number());
  CHECK(probes_with(summary, "failed", "").empty());
  // The launcher keeps at most 1 MiB of a line; the simulator writes its line in 1 MiB pieces.
  // wait4's peak covers autolrs and the children it reaped (about 8 MB in a normal build).
  // AddressSanitizer keeps up to 256 MB of freed memory in quarantine, so the bound means nothing there.
  MESSAGE("autolrs peak RSS: " << run.max_rss_kib << " KiB");
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(run.max_rss_kib < 200 * 1024);
#endif
  // The log keeps the first and the last 8 MiB of the output (issue 15: a 50 MB line per launch made
  // a 451 MB run dir), and says what it left out; the simulator's last loss line is in it.
  const fs::path log = dir / "run" / "logs" / "stage-000.stdout.log";
  CHECK(fs::file_size(log) > 16'000'000);
  CHECK(fs::file_size(log) < (16u << 20) + 200);
  const std::string text = read_text(log);
  CHECK(text.find(" bytes left out here; a log keeps the first and the last 8388608 bytes of a stream]\n") != std::string::npos);
  CHECK(text.rfind("loss") > text.size() - 200);
}

TEST_CASE("integration: a launch that prints 10,000 loss lines is stored as at most 4096 points, and report replays it") {
  // Issue 15: 2M loss lines per launch made a 527 MB journal and a 1.08 GB losses.csv. The search,
  // the journal and losses.csv keep the same thinned points, so the replay decides as the run did.
  TempDir dir;
  json spec = small_spec();
  spec["search"].update({{"probes_per_stage", 2}, {"first_stage_steps", 10'000}, {"max_stage_steps", 10'000}, {"probe_fraction", 0.5}});
  spec["total_steps"] = 10'000;  // one stage: two probes of 5000 steps, then the stage (a loss line per step)
  spec["simulator"] = json::object();
  const Finished run = run_dry(dir, spec);
  CAPTURE(run.out);
  CAPTURE(run.err);
  REQUIRE(run.status == 0);
  std::istringstream journal(read_text(dir / "run" / "journal.jsonl"));
  std::vector<std::size_t> stored;
  for (std::string line; std::getline(journal, line);) {
    const json record = json::parse(line);
    if (record.contains("outcome")) stored.push_back(record.at("outcome").at("train").size());
  }
  // Each launch trains 5000 steps (the stage continues the winning probe's chain): its first and
  // last 32 points and every 2nd of the 4936 between them, 32 + 2468 + 32.
  CHECK(stored == std::vector<std::size_t>{2532, 2532, 2532});
  std::istringstream csv(read_text(dir / "run" / "losses.csv"));
  long rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  CHECK(rows == 1 + 3 * (2532 + 50));  // the header, the train points and the val points (every 100 steps)
  const Finished report = autolrs::testing::run_autolrs(dir, {"report", (dir / "run").string()});
  CAPTURE(report.err);
  CHECK(report.status == 0);
}

TEST_CASE("integration: autolrs report run again and again while the run writes its report breaks neither") {
  // Issue 15: both writers used report.html.tmp, and the run crashed in 3 of 6 tries
  // ("cannot replace .../report.html"). Temporary names are unique now; a reader never breaks a writer.
  TempDir dir;
  json spec = small_spec();
  spec["simulator"]["step_ms"] = 3;  // a run of a few seconds
  const fs::path run_dir = dir / "run";
  const pid_t run = autolrs::testing::spawn_autolrs(
      {"run", autolrs::testing::write_spec(dir, spec), "--dry-run", "--run-dir", run_dir.string()}, dir / "run.out", dir / "run.err");
  int reports = 0;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(run, &status, WNOHANG);
    if (done == run) break;
    if (!fs::exists(run_dir / "journal.jsonl")) {
      ::usleep(10'000);
      continue;
    }
    const Finished report = autolrs::testing::run_autolrs(dir, {"report", run_dir.string()});
    CAPTURE(report.err);
    CHECK(report.status == 0);
    ++reports;
  }
  CAPTURE(read_text(dir / "run.err"));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(reports >= 3);
  CHECK(read_json(run_dir / "summary.json").at("status") == "completed");
  for (const auto& entry : fs::directory_iterator(run_dir)) CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("integration: a truncated checkpoint is caught when the next launch cannot load it") {
  // The store accepts any non-empty file: it cannot know the trainer's format. The stage after the
  // truncated one fails to load it in its first two probes alike (the simulator exits 2 before a
  // loss line), so the run stops there (exit 1) naming the reason and the log's last line.
  TempDir dir;
  json spec = small_spec();
  spec["simulator"]["truncate_checkpoint"] = true;
  spec["search"]["preset"] = "paper";  // every stage launch loads the previous stage's checkpoint
  const Finished run = run_dry(dir, spec);
  CAPTURE(run.out);
  CHECK(run.status == 1);
  const json summary = read_json(dir / "run" / "summary.json");
  CHECK(summary.at("status") == "failed");
  CHECK(summary.at("stages").at(0).at("completed") == true);
  const std::string failure = summary.at("failure").get<std::string>();
  const std::string stop = "stage 1: its first two launches (stage-001-probe-00, stage-001-probe-01) failed the same way";
  CHECK(failure.starts_with(stop));
  CHECK(failure.find("exited with status 2 (see " + (dir / "run" / "logs" / "stage-001-probe-01.stderr.log").string() +
                     ": autolrs: error: --load ") != std::string::npos);
  CHECK(run.out.find("autolrs: " + stop) != std::string::npos);
  CHECK(run.err.find("--resume") != std::string::npos);
}

TEST_CASE("integration: a main stage failing max_retries + 1 times stops the run with exit 1, resumable") {
  TempDir dir;
  json spec = small_spec();
  spec["simulator"]["crash_at_step"] = 50;  // past stage 0's probes (steps 1-20), inside its main launch
  spec["trainer"]["max_retries"] = 1;
  spec["search"]["preset"] = "paper";  // the stage launch retrains all its 100 steps from the stage start
  const Finished run = run_dry(dir, spec);
  CAPTURE(run.out);
  CAPTURE(run.err);
  CHECK(run.status == 1);
  const std::string message = "stage 0 failed after 2 attempt(s): exited with status 3";
  CHECK(run.out.find("autolrs: " + message) != std::string::npos);
  CHECK(run.out.find("train 100 steps  lr=") != std::string::npos);
  CHECK(run.out.find(" (retry 1: exited with status 3") != std::string::npos);  // why the stage runs again
  CHECK(run.err.find("once the cause is fixed, continue with: autolrs run") != std::string::npos);
  CHECK(run.err.find(" --dry-run --run-dir " + (dir / "run").string() + " --resume\n") != std::string::npos);
  CHECK(run.err.find("autolrs: --resume accepts changes to how the trainer runs: trainer.command") != std::string::npos);
  json summary = read_json(dir / "run" / "summary.json");
  CHECK(summary.at("status") == "failed");
  CHECK(summary.at("failure").get<std::string>().find(message) != std::string::npos);
  CHECK(summary.at("stages").at(0).at("attempts") == 2);
  const size_t launches = summary.at("launches").get<size_t>();

  SUBCASE("running again without --resume is refused") {
    const Finished again = run_dry(dir, spec);
    CHECK(again.status == 2);
    CHECK(again.err.find("--resume") != std::string::npos);
  }
  SUBCASE("--resume runs the launch that failed the run once more, from the stage's start") {
    const std::string journal_before = read_text(dir / "run" / "journal.jsonl");
    const Finished resumed = run_dry(dir, spec, {"--resume"});
    CAPTURE(resumed.out);
    CHECK(resumed.status == 1);
    CHECK(resumed.out.rfind("[stage 0 of 2] train 100 steps  lr=", 0) == 0);  // the only launch
    CHECK(resumed.out.find("(retry 1: exited with status 3") != std::string::npos);
    CHECK(resumed.out.find("] probe ") == std::string::npos);
    CHECK(resumed.out.find("autolrs: " + message) != std::string::npos);
    const std::string journal = read_text(dir / "run" / "journal.jsonl");
    REQUIRE(journal.rfind(journal_before, 0) == 0);  // appended to, never rewritten
    const std::string appended = journal.substr(journal_before.size());
    CHECK(appended.find("\"type\":\"retried\"") != std::string::npos);
    CHECK(appended.find("\"type\":\"result\"") != std::string::npos);
    CHECK(read_json(dir / "run" / "summary.json").at("launches") == launches);
  }
  SUBCASE("--resume after the trainer is fixed runs on to the end, saying what changed") {
    json fixed = spec;
    fixed["simulator"].erase("crash_at_step");
    fixed["trainer"]["timeout_s"] = 600;
    const Finished resumed = run_dry(dir, fixed, {"--resume"});
    CAPTURE(resumed.out);
    CAPTURE(resumed.err);
    CHECK(resumed.status == 0);
    CHECK(resumed.err.find("autolrs: resuming with the trainer changed (simulator.crash_at_step, trainer.timeout_s); "
                           "what was decided so far stands\n") != std::string::npos);
    CHECK(read_json(dir / "run" / "summary.json").at("status") == "completed");
  }
  SUBCASE("--resume with the search changed is refused, naming the field as the spec spells it") {
    json changed = spec;
    changed["search"]["lr_min"] = 2e-4;
    changed["simulator"].erase("crash_at_step");
    const Finished resumed = run_dry(dir, changed, {"--resume"});
    CHECK(resumed.status == 2);
    CHECK(resumed.err.find("autolrs: error: --resume: the job changed since the run started (search.lr_min); start a new run "
                           "in another run_dir (--resume accepts changes to how the trainer runs: ") != std::string::npos);
  }
}

}  // namespace

/// Every file below `root`, by relative path, with its content ("<dir>" for a folder).
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    files[fs::relative(entry.path(), root).string()] = entry.is_directory() ? "<dir>" : read_text(entry.path());
  }
  return files;
}

TEST_CASE("integration: a run, a resume and validate on a folder of another program's files change not one byte of it") {
  TempDir dir;
  const fs::path foreign = dir / "run";
  fs::create_directories(foreign / "logs");
  fs::create_directories(foreign / "checkpoints" / "best.old");
  fs::create_directories(foreign / "checkpoints" / "model.old");
  for (const char* name : {"summary.json", "losses.csv", "report.html", "logs/stage-000.stdout.log",
                           "checkpoints/step-000000100", "checkpoints/model.staging.bak", "checkpoints/weights.old",
                           "checkpoints/best.old/w.bin", "checkpoints/model", "checkpoints/model.old/data"}) {
    autolrs::testing::write_text(foreign / name, std::string("theirs: ") + name);
  }
  const std::map<std::string, std::string> before = snapshot(foreign);
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, std::vector<std::string>{"--resume"}}) {
    const Finished run = run_dry(dir, small_spec(), extra);
    CAPTURE(run.err);
    CHECK(run.status == 2);
    CHECK(run.err.find("autolrs: error: run_dir: " + foreign.string() + " is not empty and holds no autolrs run") !=
          std::string::npos);
    CHECK(snapshot(foreign) == before);
  }
  const Finished validated = autolrs::testing::run_autolrs(
      dir, {"validate", autolrs::testing::write_spec(dir, small_spec()), "--dry-run", "--run-dir", foreign.string()});
  CHECK(validated.status == 2);
  CHECK(snapshot(foreign) == before);
}

TEST_CASE("integration: a write that fails for want of space stops the run (exit 1, naming the file), and --resume ends with the undisturbed schedule.csv") {
  // The failure is injected with a file-size limit (ulimit -f, SIGXFSZ ignored): every write of
  // autolrs past the limit fails with EFBIG, as on a full disk, whichever file it is (a launch's
  // log, the journal, losses.csv, summary.json, report.html). The simulator's checkpoints (16 KB)
  // stay below every limit tried, so the trainer itself never fails.
  TempDir dir;
  const json dry_run = read_json(fs::path(AUTOLRS_SOURCE_DIR) / "configs" / "dry-run.json");
  const std::string spec = autolrs::testing::write_spec(dir, dry_run);
  const Finished reference = run_dry(dir, dry_run);
  REQUIRE(reference.status == 0);
  const std::string undisturbed = read_text(dir / "run" / "schedule.csv");
  int stopped_runs = 0;
  for (long limit_kib = 32; limit_kib <= 4096; limit_kib *= 2) {
    CAPTURE(limit_kib);
    const fs::path run_dir = dir / ("limited-" + std::to_string(limit_kib));
    const std::string command = "ulimit -f " + std::to_string(limit_kib) + "; trap '' XFSZ; exec '" + AUTOLRS_BINARY +
                                "' run '" + spec + "' --dry-run --run-dir '" + run_dir.string() + "'";
    const fs::path out = dir / "limited.out", err = dir / "limited.err";
    const int status = autolrs::testing::wait_for_exit(autolrs::testing::spawn_process({"/bin/bash", "-c", command}, out, err)).status;
    if (status == 0) break;  // the limit is above every file the run writes
    ++stopped_runs;
    const std::string message = read_text(err);
    CAPTURE(message);
    CHECK(status == 1);
    CHECK(message.find("autolrs: error: ") != std::string::npos);
    CHECK(message.find(run_dir.string() + "/") != std::string::npos);  // names the file
    CHECK(message.find("File too large") != std::string::npos);
    CHECK(message.find("--resume") != std::string::npos);
    if (fs::exists(run_dir / "summary.json")) CHECK(read_json(run_dir / "summary.json").at("status") == "failed");

    // A journal whose first record could not be written holds no run: the run starts afresh there.
    std::vector<std::string> again{"run", spec, "--dry-run", "--run-dir", run_dir.string()};
    if (read_text(run_dir / "journal.jsonl").find('\n') != std::string::npos) again.push_back("--resume");
    const Finished resumed = autolrs::testing::run_autolrs(dir, again);
    CAPTURE(resumed.err);
    REQUIRE(resumed.status == 0);
    CHECK(read_text(run_dir / "schedule.csv") == undisturbed);
  }
  CHECK(stopped_runs >= 3);
}

/// Pids of the live processes whose environment holds `entry` ("NAME=value").
std::vector<pid_t> processes_with_env(const std::string& entry) {
  std::vector<pid_t> found;
  for (const auto& process : fs::directory_iterator("/proc")) {
    const std::string name = process.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string environ = read_text(process.path() / "environ");
    const std::string stat = read_text(process.path() / "stat");
    const size_t after_comm = stat.rfind(')');
    if (after_comm == std::string::npos || after_comm + 2 >= stat.size() || stat[after_comm + 2] == 'Z') continue;
    for (size_t begin = 0; begin < environ.size();) {
      const size_t end = std::min(environ.find('\0', begin), environ.size());
      if (environ.compare(begin, end - begin, entry) == 0) found.push_back(static_cast<pid_t>(std::stol(name)));
      begin = end + 1;
    }
  }
  return found;
}

TEST_CASE("integration: processes a trainer leaves behind with setsid are gone when autolrs exits") {
  // A trainer that prints its losses, saves, and leaves a `setsid sleep` holding its stdout, as a
  // daemonizing data loader would.
  TempDir dir;
  autolrs::testing::write_text(dir / "trainer.sh",
                               "#!/bin/bash\n"
                               "setsid sleep 300 &\n"
                               "for i in 1 2 3 4 5; do echo \"loss=$((10 - i))\"; done\n"
                               "echo saved > \"$2\"\n");
  fs::permissions(dir / "trainer.sh", fs::perms::owner_all);
  json spec = small_spec();
  spec["trainer"] = {{"command", {(dir / "trainer.sh").string(), "{steps}", "{save_checkpoint}"}},
                     {"loss", {{"pattern", "loss=(?P<loss>\\S+)"}}}};
  spec["search"].update({{"probes_per_stage", 2}});
  spec["total_steps"] = 100;
  const fs::path run_dir = dir / "run";
  const Finished run = autolrs::testing::run_autolrs(
      dir, {"run", autolrs::testing::write_spec(dir, spec), "--run-dir", run_dir.string()});
  CAPTURE(run.err);
  CHECK(run.status == 0);
  CHECK(processes_with_env("AUTOLRS_RUN_DIR=" + run_dir.string()).empty());
}

TEST_CASE("integration: --resume ends a killed run's leftovers but spares the shell that started it with the same tag") {
  TempDir dir;
  const fs::path run_dir = dir / "run";
  const std::string spec = autolrs::testing::write_spec(dir, small_spec());
  REQUIRE(run_dry(dir, small_spec()).status == 0);
  const std::string command = "'" + std::string(AUTOLRS_BINARY) + "' run '" + spec + "' --dry-run --run-dir '" +
                              run_dir.string() + "' --resume; echo survived";
  const fs::path out = dir / "shell.out", err = dir / "shell.err";
  const pid_t shell = autolrs::testing::spawn_process(
      {"/usr/bin/env", "AUTOLRS_RUN_DIR=" + run_dir.string(), "/bin/sh", "-c", command}, out, err);
  CHECK(autolrs::testing::wait_for_exit(shell).status == 0);
  CHECK(read_text(out).find("survived\n") != std::string::npos);
}
