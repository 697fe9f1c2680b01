// Broken trainers that used to let a run end "completed" (or run every probe to the same failure):
// tests/fake_trainers/flawed_trainer.py with one flaw each, through the real binary. Each must stop
// within the first stage with exit 1 and a message that names the cause and the log.

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using autolrs::testing::Finished;
using autolrs::testing::read_json;
using autolrs::testing::TempDir;
using nlohmann::json;

/// Two stages of 100 steps, four probes of 20 steps in the first, LR in [1e-4, 1]; the trainer has
/// `flaw` (see flawed_trainer.py).
json flawed_spec(const TempDir& dir, const std::string& flaw) {
  return {{"name", "flawed"},
          {"trainer",
           {{"command", {std::string(AUTOLRS_FAKE_TRAINERS_DIR) + "/flawed_trainer.py", "lr={lr}", "steps={steps}",
                         "out={save_checkpoint}", "seed={seed}", "flaw=" + flaw}},
            {"resume_args", {"init={load_checkpoint}"}},
            {"loss", {{"pattern", R"(step (?P<step>\d+) loss=(?P<loss>\S+))"}}},
            {"val_loss", {{"pattern", R"(val=(?P<loss>\S+))"}}},
            {"max_retries", 0}}},
          // The stagewise preset: stages of 100 steps, 4 probes of 20 steps from the stage's start.
          {"search",
           {{"preset", "stagewise"}, {"lr_min", 1e-4}, {"lr_max", 1.0}, {"probes_per_stage", 4}, {"first_stage_steps", 100},
            {"max_stage_steps", 100}, {"probe_fraction", 0.2}}},
          {"total_steps", 200},
          {"seed", 1},
          {"run_dir", (dir / "run").string()}};
}

Finished run(const TempDir& dir, const json& spec) {
  return autolrs::testing::run_autolrs(dir, {"run", autolrs::testing::write_spec(dir, spec)});
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The launches the run finished (their stdout logs).
size_t launches_run(const TempDir& dir) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir / "run" / "logs")) count += entry.path().string().ends_with(".stdout.log");
  return count;
}

/// The run stopped failed before training a single model step, with `failure` (also in summary.json).
void check_stopped_in_first_stage(const TempDir& dir, const Finished& finished, const std::string& failure) {
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  CHECK(finished.status == 1);
  const json summary = read_json(dir / "run" / "summary.json");
  CHECK(summary.at("status") == "failed");
  CHECK(summary.at("total_steps") == 0);
  CHECK(summary.at("failure").get<std::string>() == failure);
  CHECK(contains(finished.out, "autolrs: " + failure));
}

/// The message a run stopped on in its first stage (check_stopped_in_first_stage).
std::string stop_message(const TempDir& dir, const Finished& finished) {
  const std::string failure = read_json(dir / "run" / "summary.json").value("failure", "");
  check_stopped_in_first_stage(dir, finished, failure);
  return failure;
}

}  // namespace

TEST_CASE("integration: a healthy flawed_trainer.py run completes without a warning, each launch seeing only fds 0-2") {
  TempDir dir;
  json spec = flawed_spec(dir, "none");
  spec["trainer"]["env"] = {{"FDS_LOG", (dir / "fds.jsonl").string()}};
  const Finished finished = run(dir, spec);
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  CHECK(finished.status == 0);
  CHECK(!contains(finished.out, "warning"));
  CHECK(read_json(dir / "run" / "summary.json").at("status") == "completed");
  // losses.csv (an std::ofstream, opened after the first launch) once leaked into every later launch.
  const std::string fds = autolrs::testing::read_text(dir / "fds.jsonl");
  CHECK(launches_run(dir) > 2);
  CHECK(fds == [&] {
    std::string none;
    for (size_t launch = 0; launch < launches_run(dir); ++launch) none += "[]\n";
    return none;
  }());
}

TEST_CASE("integration: a trainer that ignores {lr} stops the run in its first stage, naming both launches' logs") {
  TempDir dir;
  const std::string failure = stop_message(dir, run(dir, flawed_spec(dir, "ignore-lr")));
  CAPTURE(failure);
  CHECK(failure.starts_with("the trainer does not seem to use {lr}: stage-000-probe-0"));
  CHECK(contains(failure, "printed the same train losses (see " + (dir / "run" / "logs" / "stage-000-probe-0").string()));
  CHECK(contains(failure, "trainer.command must pass {lr}"));
}

TEST_CASE("integration: a trainer that never loads its checkpoint stops the run in its first stage, naming resume_args") {
  TempDir dir;
  const std::string failure = stop_message(dir, run(dir, flawed_spec(dir, "no-resume")));
  CAPTURE(failure);
  CHECK(failure.starts_with("the trainer does not seem to load its checkpoint: stage-000-"));
  CHECK(contains(failure, "back at the level the run started at"));
  CHECK(contains(failure, "see " + (dir / "run" / "logs" / "stage-000-").string()));
  CHECK(contains(failure, "trainer.resume_args must pass {load_checkpoint}"));
}

TEST_CASE("integration: validate prints the plan and the loss-line rate the shortest probe needs") {
  const std::pair<std::string, std::string> cases[] = {
      {"stagewise",
       "stage plan (stagewise preset):\n"
       "  stage  start_step    steps  probe_steps  decay_tail  probes\n"
       "      0           0      100           20           5       4\n"
       "      1         100      100           20           0       3\n"
       "loss lines: a probe is judged on at least 3 train losses; print one at least every 6 steps "
       "(the shortest probe runs 20)\n"},
      // Rounds of 4 and 2 chains to 10 and 30 steps, the hold to 40, 8 decay stages.
      {"default",
       "plan (default preset): the peak among 4 LRs in [0.0001, 1] by successive halving\n"
       "  round  candidates  chain_to_step  decay_tail\n"
       "      0           4             10           1\n"
       "      1           2             30           4\n"
       "  stage 0: the winner holds its LR to step 40; stages 1-8: a decay to 0 over steps 40-200, cubic or linear as the last round's decay tails say\n"
       "loss lines: a candidate is judged by the trend of the train losses over its decay tail's last half (or its last "
       "val loss); print one at least every 1 steps (the shortest decay tail runs 1)\n"},
  };
  for (const auto& [preset, plan] : cases) {
    CAPTURE(preset);
    TempDir dir;
    json spec = flawed_spec(dir, "none");
    spec["search"]["preset"] = preset;
    const Finished finished = autolrs::testing::run_autolrs(dir, {"validate", autolrs::testing::write_spec(dir, spec)});
    CAPTURE(finished.out);
    CHECK(finished.status == 0);
    CHECK(contains(finished.out, plan));
    CHECK(!contains(finished.out, "warning"));
  }
}

TEST_CASE("integration: a spec without {load_checkpoint} is flagged by validate") {
  TempDir dir;
  json spec = flawed_spec(dir, "none");
  spec["trainer"].erase("resume_args");
  const Finished finished = autolrs::testing::run_autolrs(dir, {"validate", autolrs::testing::write_spec(dir, spec)});
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  CHECK(finished.status == 0);
  CHECK(contains(finished.out, "warning: trainer.resume_args: {load_checkpoint} appears nowhere in trainer.command or "
                               "trainer.resume_args: every launch will train from scratch"));
}

TEST_CASE("integration: a val_loss pattern that never matches is said once, and stops a run judged by val loss") {
  SUBCASE("objective auto: one warning, the run goes on") {
    TempDir dir;
    const Finished finished = run(dir, flawed_spec(dir, "val-elsewhere"));
    CAPTURE(finished.out);
    CAPTURE(finished.err);
    CHECK(finished.status == 0);
    const std::string warning = "autolrs: warning: trainer.val_loss.pattern matched no line of stage-000-probe-00, which printed 20 train losses (see " +
                                (dir / "run" / "logs" / "stage-000-probe-00.stdout.log").string() + ")";
    CHECK(contains(finished.out, warning));
    CHECK(finished.out.find("warning") == finished.out.rfind("warning"));
  }
  SUBCASE("objective val_loss: the run stops after the first launch") {
    TempDir dir;
    json spec = flawed_spec(dir, "val-elsewhere");
    spec["search"]["objective"] = "val_loss";
    const std::string failure = stop_message(dir, run(dir, spec));
    CAPTURE(failure);
    CHECK(failure.starts_with("trainer.val_loss.pattern matched no line of stage-000-probe-00"));
    CHECK(contains(failure, "with search.objective \"val_loss\" the search has nothing to judge probes by"));
    CHECK(launches_run(dir) == 1);
  }
}

namespace {

/// The cause a run stopped on after the first two probes of stage 0 failed alike, checking the
/// stop itself: exit 1 before any model step, two launches run, the message's fixed part.
std::string fail_fast_cause(const TempDir& dir, const Finished& finished) {
  const std::string failure = stop_message(dir, finished);
  CAPTURE(failure);
  CHECK(launches_run(dir) == 2);
  const std::string stop = "stage 0: its first two launches (stage-000-probe-00, stage-000-probe-01) failed the same way, "
                           "so the others would too: ";
  CHECK(failure.starts_with(stop));
  return failure.starts_with(stop) ? failure.substr(stop.size()) : failure;
}

}  // namespace

TEST_CASE("integration: when the first two launches of a stage fail the same way, the run stops with the log's last lines") {
  SUBCASE("a missing Python module: the traceback is on stderr") {
    TempDir dir;
    const std::string cause = fail_fast_cause(dir, run(dir, flawed_spec(dir, "missing-module")));
    const std::string stderr_log = (dir / "run" / "logs" / "stage-000-probe-01.stderr.log").string();
    CHECK(cause.starts_with("exited with status 1 (see " + stderr_log +
                            ": ModuleNotFoundError: No module named 'autolrs_no_such_module')\n  the last lines of " +
                            stderr_log + ":\n    "));
    CHECK(contains(cause, "import autolrs_no_such_module  # noqa: F401"));
  }
  SUBCASE("a loss pattern that never matches: the log and its last line are named") {
    TempDir dir;
    json spec = flawed_spec(dir, "none");
    spec["trainer"]["loss"]["pattern"] = R"(Loss: (?P<loss>\S+))";
    const std::string cause = fail_fast_cause(dir, run(dir, spec));
    CHECK(cause.starts_with("no line matched trainer.loss.pattern in " +
                            (dir / "run" / "logs" / "stage-000-probe-01.stdout.log").string() +
                            " (20 lines; last: step 20 loss="));
    CHECK(cause.ends_with(")"));
  }
  SUBCASE("a checkpoint saved under another name: the file beside the expected path is named") {
    TempDir dir;
    const std::string cause = fail_fast_cause(dir, run(dir, flawed_spec(dir, "npz")));
    CHECK(cause.starts_with("no checkpoint written at " +
                            (dir / "run" / "checkpoints" / "stage-000-probe-01.staging").string() +
                            " (found beside it: stage-000-probe-01.staging.npz; the trainer must write to the exact "
                            "path of {save_checkpoint}"));
  }
}

namespace {

/// `autolrs validate <spec> --launch` on the trainer with `flaw`.
Finished check(const TempDir& dir, const json& spec) {
  return autolrs::testing::run_autolrs(dir, {"validate", autolrs::testing::write_spec(dir, spec), "--launch"});
}

/// The trainer-check folders beside the run dir.
std::vector<fs::path> check_folders(const TempDir& dir) {
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().starts_with("run-check.")) folders.push_back(entry.path());
  }
  return folders;
}

}  // namespace

TEST_CASE("integration: validate --launch passes a healthy trainer in three launches and leaves nothing behind") {
  TempDir dir;
  const Finished finished = check(dir, flawed_spec(dir, "none"));
  CAPTURE(finished.out);
  CAPTURE(finished.err);
  CHECK(finished.status == 0);
  CHECK(contains(finished.out, "trainer check: 20 steps at lr 0.01 and at lr 0.001 from scratch, then 20 at lr 0.001 "
                               "continuing the first; in " + (dir / "run-check.").string()));
  CHECK(contains(finished.out, "[stage 0 of 1] probe 0 of 2  lr=1.000e-02  loss="));
  CHECK(contains(finished.out, "[stage 0 of 1] probe 1 of 2  lr=1.000e-03  loss="));
  CHECK(contains(finished.out, "[stage 0 of 1] train 20 steps  lr=1.000e-03  loss="));
  CHECK(contains(finished.out, "\ntrainer check passed: every launch printed losses the patterns match and wrote {save_checkpoint}"));
  CHECK(!contains(finished.out, "warning"));
  CHECK(check_folders(dir).empty());
  CHECK(!fs::exists(dir / "run"));  // the run dir is never touched
}

TEST_CASE("integration: validate --launch finds each trainer flaw in its three launches, exit 1, naming the cause and keeping the logs") {
  const std::pair<std::string, std::string> cases[] = {
      {"ignore-lr", "autolrs: the trainer check failed: the trainer does not seem to use {lr}"},
      {"no-resume", "autolrs: the trainer check failed: the trainer does not seem to load its checkpoint"},
      {"npz", "no checkpoint written at "},
      {"missing-module", "ModuleNotFoundError"},
  };
  for (const auto& [flaw, message] : cases) {
    CAPTURE(flaw);
    TempDir dir;
    const Finished finished = check(dir, flawed_spec(dir, flaw));
    CAPTURE(finished.out);
    CAPTURE(finished.err);
    CHECK(finished.status == 1);
    CHECK(contains(finished.err, message));
    const std::vector<fs::path> folders = check_folders(dir);
    REQUIRE(folders.size() == 1);
    CHECK(contains(finished.err, "autolrs: its logs are in " + (folders[0] / "logs").string() + "\n"));
    CHECK(fs::exists(folders[0] / "logs" / "stage-000-probe-00.stdout.log"));
    CHECK(fs::is_empty(folders[0] / "checkpoints"));
    // The kept folder is a run dir like any other: report rebuilds it from its journal.
    const Finished report = autolrs::testing::run_autolrs(dir, {"report", folders[0].string()});
    CAPTURE(report.err);
    CHECK(report.status == 0);
    CHECK(autolrs::testing::read_text(folders[0] / "report.html").find("<h1>flawed (trainer check)</h1>") != std::string::npos);
  }
}

TEST_CASE("integration: validate --launch warns of a val_loss pattern that never matches, and fails on it when judged by val loss") {
  TempDir dir;
  json spec = flawed_spec(dir, "val-elsewhere");
  const Finished warned = check(dir, spec);
  CAPTURE(warned.out);
  CHECK(warned.status == 0);
  CHECK(contains(warned.out, "autolrs: warning: "));
  CHECK(contains(warned.out, "trainer check passed: ") );
  CHECK(contains(warned.out, " (1 warning(s) above)\n"));
  spec["search"]["objective"] = "val_loss";
  const Finished stopped = check(dir, spec);
  CHECK(stopped.status == 1);
  CHECK(contains(stopped.err, "autolrs: the trainer check failed: "));
}

