#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "orchestrator/fakes.hpp"
#include "orchestrator/launch_command.hpp"
#include "orchestrator/resume_changes.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "orchestrator/run_summary.hpp"
#include "search/autolrs_search.hpp"
#include "search/launch_planner.hpp"
#include "spec/command_template.hpp"
#include "spec/input_error.hpp"

using namespace autolrs;
using orchestrator::RunStatus;
using testing::argument_after;
using testing::FakeCheckpointStore;
using testing::FakeClock;
using testing::FakeTrainerLauncher;
using testing::MemoryJournal;

namespace {

spec::JobSpec job_for_tests() {
  spec::JobSpec job;
  job.name = "fake";
  job.trainer.command = {"train", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}", "--stage={stage}"};
  job.trainer.resume_args = {"--load", "{load_checkpoint}"};
  job.trainer.workdir = "/work";
  job.trainer.env = {{"OMP_NUM_THREADS", "1"}};
  job.trainer.loss = {"loss=(?P<loss>\\S+)"};
  job.search.lr_max = 0.3;  // the fake trainer explodes above 0.3
  job.search.preset = "paper";
  job.search.probes_per_stage = 3;
  job.search.first_stage_steps = 100;
  job.search.max_stage_steps = 200;
  job.total_steps = 500;
  job.run_dir = "/runs/fake";
  job.source = {{"name", "fake"}};
  return job;
}

/// Captures what observers see at the end of the run.
struct FinalState : orchestrator::RunObserver {
  void on_run_finished(const orchestrator::RunState& state) override {
    summary = orchestrator::run_summary(state);
    schedule = orchestrator::schedule_csv(state);
  }
  nlohmann::json summary;
  std::string schedule;
};

struct Harness {
  explicit Harness(spec::JobSpec job_spec = job_for_tests()) : job(std::move(job_spec)), launcher(store) {}

  RunStatus run(bool resume = false, nlohmann::json identity = {{"spec", "v1"}}) {
    orchestrator::RunOrchestrator orchestrator(job, identity,
                                               orchestrator::RunContext{launcher, journal, store, clock, {&final_state}});
    search::AutoLrsSearch planner(job);
    return orchestrator.run(planner, resume);
  }

  spec::JobSpec job;
  FakeCheckpointStore store;
  FakeTrainerLauncher launcher;
  MemoryJournal journal;
  FakeClock clock;
  FinalState final_state;
};

}  // namespace

TEST_CASE("orchestrator::RunOrchestrator launches the trainer with the exact argv of each launch") {
  Harness harness;
  REQUIRE(harness.run() == RunStatus::completed);
  const auto& commands = harness.launcher.commands;
  // Stages of 100, 200, 200 steps; 3 probes and a stage launch each.
  REQUIRE(commands.size() == 12);

  const auto& first_probe = commands[0];
  const std::string first_lr = argument_after(first_probe.argv, "--lr");
  CHECK(first_probe.argv == std::vector<std::string>{"train", "--lr", first_lr, "--steps", "10", "--save",
                                                     "/ckpt/stage-000-probe-00.staging", "--stage=0"});
  CHECK(first_probe.workdir == "/work");
  CHECK(first_probe.env ==
        std::map<std::string, std::string>{
            {"AUTOLRS_LAUNCH", "stage-000-probe-00"}, {"AUTOLRS_RUN_DIR", "/runs/fake"}, {"OMP_NUM_THREADS", "1"}});
  CHECK(first_probe.stdout_log == "/runs/fake/logs/stage-000-probe-00.stdout.log");
  CHECK(first_probe.stderr_log == "/runs/fake/logs/stage-000-probe-00.stderr.log");

  const auto& first_stage = commands[3];
  CHECK(first_stage.argv == std::vector<std::string>{"train", "--lr", argument_after(first_stage.argv, "--lr"), "--steps",
                                                     "100", "--save", "/ckpt/step-000000100.staging", "--stage=0"});
  const auto& second_stage_probe = commands[4];
  CHECK(second_stage_probe.argv ==
        std::vector<std::string>{"train", "--lr", argument_after(second_stage_probe.argv, "--lr"), "--steps", "20", "--save",
                                 "/ckpt/stage-001-probe-00.staging", "--stage=1", "--load", "/ckpt/step-000000100"});
  CHECK(commands[11].argv.back() == "/ckpt/step-000000300");

  const nlohmann::json& summary = harness.final_state.summary;
  CHECK(summary["status"] == "completed");
  CHECK(summary["total_steps"] == 500);
  CHECK(summary["probe_steps"] == 3 * 10 + 3 * 20 + 3 * 20);
  CHECK(summary["compute_steps"] == 500 + 150);
  CHECK(summary["final_checkpoint"] == "/ckpt/step-000000500");
  CHECK(summary["stages"].size() == 3);
  CHECK(summary["stages"][1]["start_step"] == 100);
  CHECK(summary["stages"][1]["probes"].size() == 3);
  CHECK(summary["stages"][1]["lr"] == std::stod(argument_after(commands[7].argv, "--lr")));
  CHECK(harness.final_state.schedule.rfind("stage,start_step,steps,lr,lr_end\n0,0,100,", 0) == 0);
}

TEST_CASE("orchestrator::build_launch_command expands {lr_end} to a ramp's end, and to {lr} for a constant launch") {
  spec::JobSpec job;
  job.run_dir = "/runs/r";
  job.trainer.command = {"train", "--lr", "{lr}", "--lr-end", "{lr_end}", "--steps", "{steps}"};
  job.slots.emplace_back();
  search::LaunchRequest request;
  request.stage = 2;
  request.lr = 0.2;
  request.steps = 50;
  CHECK(orchestrator::build_launch_command(job, request, 0, "/c/s", std::nullopt).argv ==
        std::vector<std::string>{"train", "--lr", "0.2", "--lr-end", "0.2", "--steps", "50"});
  request.lr_end = 0.05;
  CHECK(orchestrator::build_launch_command(job, request, 0, "/c/s", std::nullopt).argv ==
        std::vector<std::string>{"train", "--lr", "0.2", "--lr-end", "0.05", "--steps", "50"});
  CHECK(job.trainer.takes_lr_ramps());
  job.trainer.command = {"train", "--lr", "{lr}"};
  CHECK_FALSE(job.trainer.takes_lr_ramps());
}

TEST_CASE("orchestrator::is_checkpoint_name holds for every checkpoint name a launch gets, and for no other program's names") {
  std::vector<search::LaunchRequest> requests(7);
  requests[0].kind = search::LaunchKind::warmup;
  requests[0].steps = 100;
  requests[1].stage = 12;
  requests[1].start_step = 1500;
  requests[1].steps = 500;
  requests[2].kind = search::LaunchKind::probe;
  requests[2].stage = 3;
  requests[2].probe = 7;
  requests[3] = requests[2];
  requests[3].decay_tail = true;
  requests[3].attempt = 2;
  requests[4] = requests[2];
  requests[4].stage = 1234;
  requests[4].probe = 123;
  requests[5] = requests[2];  // a successive-halving chain's later round, and its decay tail
  requests[5].round = 3;
  requests[6] = requests[5];
  requests[6].decay_tail = true;
  requests[6].attempt = 1;
  CHECK(orchestrator::checkpoint_name(requests[6]) == "stage-003-probe-07-r3-decay-retry-1");
  for (const search::LaunchRequest& request : requests) {
    CAPTURE(orchestrator::checkpoint_name(request));
    CHECK(orchestrator::is_checkpoint_name(orchestrator::checkpoint_name(request)));
  }
  for (const char* theirs : {"model", "weights", "best", "step-", "step-12.bak", "stage-003", "stage-1-probe-x", "xstep-1", "stage-1-probe-2-r", ""}) {
    CAPTURE(theirs);
    CHECK_FALSE(orchestrator::is_checkpoint_name(theirs));
  }
}

TEST_CASE("orchestrator::RunOrchestrator keeps keep_checkpoints stage checkpoints and drops finished probes'") {
  Harness harness;
  REQUIRE(harness.run() == RunStatus::completed);
  CHECK(harness.store.existing == std::set<std::string>{"/ckpt/step-000000300", "/ckpt/step-000000500"});
}

TEST_CASE("orchestrator::RunOrchestrator starts from the initial checkpoint with resume args, and never deletes it") {
  spec::JobSpec job = job_for_tests();
  job.initial_checkpoint = "/data/pretrained.pt";
  Harness harness(job);
  harness.store.write("/data/pretrained.pt");
  REQUIRE(harness.run() == RunStatus::completed);
  CHECK(argument_after(harness.launcher.commands[0].argv, "--load") == "/data/pretrained.pt");
  CHECK(harness.store.existing.count("/data/pretrained.pt") == 1);
}

TEST_CASE("orchestrator::RunOrchestrator runs each slot's launcher and env around the trainer") {
  spec::JobSpec job = job_for_tests();
  job.slots = {spec::SlotSpec{{{"CUDA_VISIBLE_DEVICES", "0"}}, {"srun", "-n1"}},
               spec::SlotSpec{{{"CUDA_VISIBLE_DEVICES", "1"}, {"OMP_NUM_THREADS", "2"}}, {}}};
  Harness harness(job);
  REQUIRE(harness.run() == RunStatus::completed);
  bool saw_second_slot = false;
  for (const auto& command : harness.launcher.commands) {
    if (command.argv.front() == "srun") {
      CHECK(command.argv[1] == "-n1");
      CHECK(command.argv[2] == "train");
      CHECK(command.env.at("CUDA_VISIBLE_DEVICES") == "0");
    } else {
      saw_second_slot = true;
      CHECK(command.argv.front() == "train");
      CHECK(command.env.at("CUDA_VISIBLE_DEVICES") == "1");
      CHECK(command.env.at("OMP_NUM_THREADS") == "2");
    }
  }
  CHECK(saw_second_slot);
  CHECK(harness.final_state.summary["total_steps"] == 500);
}

TEST_CASE("orchestrator::RunOrchestrator resumes an interrupted run to the same schedule, rerunning no finished launch") {
  spec::JobSpec job = job_for_tests();
  size_t launches = 0;
  std::vector<int> interrupt_points;
  SUBCASE("paper preset") {
    launches = 12;
    interrupt_points = {0, 2, 3, 7, 11};
  }
  SUBCASE("stagewise preset: a probe, its decay tail, a stage launch, the last stage's probes") {
    job.search.preset = "stagewise";
    launches = 7 + 7 + 4;
    interrupt_points = {0, 1, 5, 6, 9, 14, 17};
  }
  Harness uninterrupted(job);
  REQUIRE(uninterrupted.run() == RunStatus::completed);
  REQUIRE(uninterrupted.launcher.commands.size() == launches);

  for (int interrupt_at : interrupt_points) {
    CAPTURE(interrupt_at);
    Harness interrupted(job);
    interrupted.launcher.interrupt_at = interrupt_at;
    REQUIRE(interrupted.run() == RunStatus::interrupted);
    const size_t launched_before = interrupted.launcher.commands.size();
    CHECK(launched_before == static_cast<size_t>(interrupt_at) + 1);

    interrupted.launcher.interrupt_at = -1;
    REQUIRE(interrupted.run(true) == RunStatus::completed);
    CHECK(interrupted.final_state.schedule == uninterrupted.final_state.schedule);
    CHECK(interrupted.final_state.summary["probe_steps"] == uninterrupted.final_state.summary["probe_steps"]);
    // The interrupted launch runs again; nothing that finished does.
    CHECK(interrupted.launcher.commands.size() - launched_before == launches - static_cast<size_t>(interrupt_at));
    CHECK(interrupted.launcher.commands[launched_before].argv == interrupted.launcher.commands[launched_before - 1].argv);
    CHECK(interrupted.store.existing == uninterrupted.store.existing);
  }
}

TEST_CASE("orchestrator::RunOrchestrator refuses to resume a run whose job changed, naming what changed") {
  Harness harness;
  harness.launcher.interrupt_at = 4;
  REQUIRE(harness.run(false, {{"spec", {{"lr_min", 0.1}}}}) == RunStatus::interrupted);
  try {
    harness.run(true, {{"spec", {{"lr_min", 0.2}}}});
    FAIL("resume with a changed job was accepted");
  } catch (const spec::InputError& error) {
    CHECK(std::string(error.what()) ==
          "--resume: the job changed since the run started (lr_min); start a new run in another run_dir (" +
              std::string(orchestrator::resume_accepts) + ")");
  }
}

TEST_CASE("orchestrator::RunOrchestrator refuses to resume when nothing was recorded") {
  Harness harness;
  CHECK_THROWS_AS(harness.run(true), spec::InputError);
}

TEST_CASE("orchestrator::RunOrchestrator stops a diverging probe early and records it as diverged") {
  spec::JobSpec job = job_for_tests();
  job.search.lr_min = 0.1;  // the fake trainer explodes above lr 0.3
  job.search.lr_max = 1.0;
  job.search.probes_per_stage = 6;
  job.total_steps = 100;
  Harness harness(job);
  REQUIRE(harness.run() == RunStatus::completed);
  int diverged = 0;
  for (const auto& probe : harness.final_state.summary["stages"][0]["probes"]) {
    if (probe["lr"].get<double>() > 0.3) {
      ++diverged;
      CHECK(probe["status"] == "diverged");
      CHECK(probe["reason"].get<std::string>().rfind("loss diverged", 0) == 0);
    } else {
      CHECK(probe["status"] == "ok");
    }
  }
  CHECK(diverged > 0);
  CHECK(harness.final_state.summary["stages"][0]["lr"].get<double>() <= 0.3);
  // Stopped at the third loss in a row above 10x the first one: exp(0.5 * (step - 1)) > 10 from step 6.
  CHECK(harness.final_state.summary["probe_steps"].get<long>() == 10L * (6 - diverged) + 8L * diverged);
}

TEST_CASE("orchestrator::RunOrchestrator runs decay tails from the probes' checkpoints and continues the winner with the stagewise preset") {
  spec::JobSpec job = job_for_tests();
  job.search.preset = "stagewise";
  Harness harness(job);
  REQUIRE(harness.run() == RunStatus::completed);
  const auto& commands = harness.launcher.commands;
  // Stages 0 and 1: 3 probes, each followed by its decay tail, then the stage; the last stage has no tails.
  REQUIRE(commands.size() == 7 + 7 + 4);
  for (size_t probe = 0; probe < 3; ++probe) {
    const auto& launch = commands[2 * probe];
    const auto& tail = commands[2 * probe + 1];
    CHECK(argument_after(launch.argv, "--steps") == "10");
    CHECK(argument_after(tail.argv, "--load") == "/ckpt/stage-000-probe-0" + std::to_string(probe));
    CHECK(argument_after(tail.argv, "--steps") == "3");  // round(10 / 4)
    CHECK(std::stod(argument_after(tail.argv, "--lr")) == doctest::Approx(std::stod(argument_after(launch.argv, "--lr")) / 10));
    CHECK(argument_after(tail.argv, "--save") == "/ckpt/stage-000-probe-0" + std::to_string(probe) + "-decay.staging");
  }
  const auto& first_stage = commands[6];
  const std::string winner = argument_after(first_stage.argv, "--load");
  REQUIRE(winner.rfind("/ckpt/stage-000-probe-0", 0) == 0);
  CHECK(argument_after(first_stage.argv, "--steps") == "90");  // 100 - the probe's 10
  // The winner's LR is the probe's, and the stage ends at the same model step.
  const size_t winner_index = static_cast<size_t>(winner.back() - '0');
  CHECK(argument_after(first_stage.argv, "--lr") == argument_after(commands[2 * winner_index].argv, "--lr"));
  CHECK(argument_after(first_stage.argv, "--save") == "/ckpt/step-000000100.staging");
  CHECK(harness.final_state.summary["total_steps"] == 500);
  // Probes and tails, less each stage's winner (training): (30 + 9 - 10) + (60 + 15 - 20) + (60 - 20).
  CHECK(harness.final_state.summary["probe_steps"] == 29 + 55 + 40);
  // Tail checkpoints go at once, probe checkpoints once their stage is trained.
  CHECK(harness.store.existing == std::set<std::string>{"/ckpt/step-000000300", "/ckpt/step-000000500"});
}

TEST_CASE("orchestrator::RunOrchestrator keeps a stage's probe checkpoints until the search accepts a stage launch") {
  spec::JobSpec job = job_for_tests();
  job.search.preset = "stagewise";
  Harness harness(job);
  // The first stage launch ends above the loss it began at: no progress, its LR is abandoned.
  harness.launcher.rising_stage_launches = 1;
  REQUIRE(harness.run() == RunStatus::completed);
  const auto& commands = harness.launcher.commands;
  REQUIRE(commands.size() == 7 + 1 + 7 + 4);
  const std::string abandoned = argument_after(commands[6].argv, "--load");
  const std::string retried = argument_after(commands[7].argv, "--load");
  CHECK(abandoned.rfind("/ckpt/stage-000-probe-0", 0) == 0);
  CHECK(retried.rfind("/ckpt/stage-000-probe-0", 0) == 0);
  CHECK(retried != abandoned);
  CHECK(argument_after(commands[7].argv, "--save") == "/ckpt/step-000000100.staging");
  CHECK(harness.final_state.summary["stages"][0]["abandoned_lrs"].size() == 1);
  CHECK(harness.final_state.summary["discarded_steps"] == 90);
  CHECK(harness.final_state.summary["compute_steps"] == 500 + harness.final_state.summary["probe_steps"].get<long>() + 90);
  CHECK(harness.store.existing == std::set<std::string>{"/ckpt/step-000000300", "/ckpt/step-000000500"});
}

namespace {

/// Hands out one probe and the stage launch at once, so the stage launch is due while the probe
/// holds the first slot.
class ProbeAndStagePlanner : public search::LaunchPlanner {
 public:
  std::vector<search::LaunchRequest> next_launches(int /*free_slots*/) override {
    if (m_issued) return {};
    m_issued = true;
    search::LaunchRequest probe{search::LaunchKind::probe, 0, 0, 0, 0.01, 10, 0};
    search::LaunchRequest stage{search::LaunchKind::stage, 0, -1, 0, 0.01, 100, 0};
    m_outstanding = {probe, stage};
    return m_outstanding;
  }
  void record(const search::LaunchRequest& request, const search::LaunchOutcome& /*outcome*/) override {
    m_outstanding.erase(std::find(m_outstanding.begin(), m_outstanding.end(), request));
  }
  const std::vector<search::LaunchRequest>& outstanding() const override { return m_outstanding; }
  bool finished() const override { return m_issued && m_outstanding.empty(); }
  const std::optional<std::string>& failure() const override { return m_failure; }
  const search::SearchRecord& progress() const override { return m_record; }
  std::optional<double> reference_loss() const override { return std::nullopt; }

 private:
  bool m_issued = false;
  std::vector<search::LaunchRequest> m_outstanding;
  std::optional<std::string> m_failure;
  search::SearchRecord m_record;
};

/// Records the slot each launch started on, by launch id.
struct SlotRecorder : orchestrator::RunObserver {
  void on_launch_started(const search::LaunchRequest& request, int slot, const orchestrator::RunState&) override {
    slots[request.id()] = slot;
  }
  std::map<std::string, int> slots;
};

}  // namespace

TEST_CASE("orchestrator::RunOrchestrator runs warmup and stage launches on the first slot, waiting for it") {
  spec::JobSpec job = job_for_tests();
  job.slots = {spec::SlotSpec{{{"CUDA_VISIBLE_DEVICES", "0,1"}}, {}}, spec::SlotSpec{{{"CUDA_VISIBLE_DEVICES", "1"}}, {}}};
  FakeCheckpointStore store;
  FakeTrainerLauncher launcher(store);
  MemoryJournal journal;
  FakeClock clock;
  SlotRecorder recorder;
  orchestrator::RunOrchestrator orchestrator(job, {{"spec", "v1"}},
                                             orchestrator::RunContext{launcher, journal, store, clock, {&recorder}});
  ProbeAndStagePlanner planner;
  REQUIRE(orchestrator.run(planner, false) == RunStatus::completed);
  // The probe took the first slot; the stage launch, issued with it, waited for that slot rather
  // than taking the free second one.
  CHECK(recorder.slots == std::map<std::string, int>{{"stage-000-probe-00", 0}, {"stage-000", 0}});
  REQUIRE(launcher.commands.size() == 2);
  CHECK(launcher.commands[1].env.at("CUDA_VISIBLE_DEVICES") == "0,1");
}

namespace {

/// A journal whose first "result" record fails to be written (a full disk).
struct JournalFailingOnResult : MemoryJournal {
  void append(const orchestrator::JournalRecord& record) override {
    if (std::holds_alternative<orchestrator::ResultRecord>(record)) throw std::runtime_error("journal: no space left on device");
    MemoryJournal::append(record);
  }
};

/// Probe 0 trains at once; every other launch runs until it is interrupted, then ends
/// interrupted (as the process launcher does), and is counted. Waiting while only those run, not
/// interrupted, would wait for ever: that fails the test instead.
struct SlowLaunchesUntilInterrupted : FakeTrainerLauncher {
  using FakeTrainerLauncher::FakeTrainerLauncher;
  orchestrator::LaunchCompletion wait() override {
    const auto quick = std::find_if(m_started.begin(), m_started.end(), [](const Started& launch) {
      return argument_after(launch.command.argv, "--save").find("probe-00") != std::string::npos;
    });
    if (quick != m_started.end()) {
      Started launch = std::move(*quick);
      m_started.erase(quick);
      return {launch.id, train(launch.command, launch.observer)};
    }
    if (!interrupted) throw std::logic_error("waiting for launches that never end");
    ++stopped_launches;
    return FakeTrainerLauncher::wait();
  }
  int stopped_launches = 0;
};

}  // namespace

TEST_CASE("orchestrator::RunOrchestrator failing mid-run stops the running launches, waits for them and rethrows") {
  spec::JobSpec job = job_for_tests();
  job.slots = {spec::SlotSpec{}, spec::SlotSpec{}, spec::SlotSpec{}};
  FakeCheckpointStore store;
  SlowLaunchesUntilInterrupted launcher(store);
  JournalFailingOnResult journal;
  FakeClock clock;
  orchestrator::RunOrchestrator orchestrator(job, {{"spec", "v1"}}, orchestrator::RunContext{launcher, journal, store, clock, {}});
  search::AutoLrsSearch planner(job);
  // Probe 0's result cannot be journaled while probes 1 and 2 run on the other slots: the error
  // reaches the caller, after both were interrupted and had ended.
  CHECK_THROWS_WITH_AS(orchestrator.run(planner, false), "journal: no space left on device", std::runtime_error);
  CHECK(launcher.interrupted);
  CHECK(launcher.stopped_launches == 2);
  CHECK(launcher.running() == 0);
  CHECK(launcher.commands.size() == 3);
  REQUIRE(journal.records.size() == 2);
  CHECK(std::holds_alternative<orchestrator::StartedRecord>(journal.records[0]));
  CHECK(std::holds_alternative<orchestrator::IssuedRecord>(journal.records[1]));
}

namespace {

/// Probe 1 of the first stage ends as the launcher describes it in `ending`; the rest train.
struct EndingOfProbe1 : FakeTrainerLauncher {
  EndingOfProbe1(FakeCheckpointStore& store, orchestrator::LaunchResult ending) : FakeTrainerLauncher(store), ending(std::move(ending)) {}
  orchestrator::LaunchCompletion wait() override {
    if (argument_after(m_started.front().command.argv, "--save").find("stage-000-probe-01.") == std::string::npos) {
      return FakeTrainerLauncher::wait();
    }
    const orchestrator::LaunchId id = m_started.front().id;
    m_started.pop_front();
    return {id, ending};
  }
  orchestrator::LaunchResult ending;
};

}  // namespace

TEST_CASE("orchestrator::RunOrchestrator records the launcher's precise ending in a failed probe's reason") {
  struct Case {
    orchestrator::LaunchEnd end;
    int exit_code;
    std::string message, survivors, reason;
  };
  const std::string group_left = "processes of its group (4242) were still present 5 s after SIGKILL";
  for (const Case& c : std::vector<Case>{
           {orchestrator::LaunchEnd::signaled, -1, "killed by signal 9 (SIGKILL)", "",
            "killed by signal 9 (SIGKILL) (it printed nothing)"},
           {orchestrator::LaunchEnd::exited, 3, "exited with status 3", "", "exited with status 3 (it printed nothing)"},
           {orchestrator::LaunchEnd::timed_out, -1, "ran past timeout_s = 9 s; " + group_left, group_left,
            "ran past trainer.timeout_s (it printed nothing); " + group_left},
       }) {
    CAPTURE(c.reason);
    orchestrator::LaunchResult ending;
    ending.end = c.end;
    ending.exit_code = c.exit_code;
    ending.message = c.message;
    ending.survivors = c.survivors;
    FakeCheckpointStore store;
    EndingOfProbe1 launcher(store, ending);
    MemoryJournal journal;
    FakeClock clock;
    FinalState final_state;
    spec::JobSpec job = job_for_tests();
    job.total_steps = 100;
    orchestrator::RunOrchestrator orchestrator(job, {{"spec", "v1"}},
                                               orchestrator::RunContext{launcher, journal, store, clock, {&final_state}});
    search::AutoLrsSearch planner(job);
    REQUIRE(orchestrator.run(planner, false) == RunStatus::completed);
    const nlohmann::json& probe = final_state.summary["stages"][0]["probes"][1];
    CHECK(probe["status"] == "failed");
    CHECK(probe["reason"] == c.reason);
  }
}

TEST_CASE("orchestrator::RunOrchestrator stops on an error of its own (a log it cannot write), records nothing of that launch, and resumes to the undisturbed schedule") {
  spec::JobSpec job = job_for_tests();
  Harness undisturbed(job);
  REQUIRE(undisturbed.run() == RunStatus::completed);

  orchestrator::LaunchResult no_space;
  no_space.end = orchestrator::LaunchEnd::launcher_error;
  no_space.message = "cannot write /runs/fake/logs/stage-000-probe-01.stdout.log: No space left on device";
  FakeCheckpointStore store;
  MemoryJournal journal;
  FakeClock clock;
  FinalState final_state;
  {
    EndingOfProbe1 launcher(store, no_space);
    orchestrator::RunOrchestrator orchestrator(job, {{"spec", "v1"}},
                                               orchestrator::RunContext{launcher, journal, store, clock, {&final_state}});
    search::AutoLrsSearch planner(job);
    CHECK_THROWS_WITH_AS(orchestrator.run(planner, false), no_space.message.c_str(), std::runtime_error);
  }
  // Probe 0's result is journaled, probe 1's is not (nor a "finished" record): --resume runs it again.
  int results = 0;
  for (const orchestrator::JournalRecord& record : journal.records) {
    CHECK_FALSE(std::holds_alternative<orchestrator::FinishedRecord>(record));
    if (const auto* result = std::get_if<orchestrator::ResultRecord>(&record)) {
      ++results;
      CHECK(result->report.request.id() == "stage-000-probe-00");
    }
  }
  CHECK(results == 1);
  CHECK(final_state.summary["status"] == "failed");
  CHECK(final_state.summary["failure"] == "autolrs: " + no_space.message +
                                              "; the launches in flight were not recorded and run again on --resume");

  FakeTrainerLauncher launcher(store);
  orchestrator::RunOrchestrator resumed(job, {{"spec", "v1"}}, orchestrator::RunContext{launcher, journal, store, clock, {&final_state}});
  search::AutoLrsSearch planner(job);
  REQUIRE(resumed.run(planner, true) == RunStatus::completed);
  CHECK(argument_after(launcher.commands.front().argv, "--save").find("stage-000-probe-01.") != std::string::npos);
  CHECK(final_state.schedule == undisturbed.final_state.schedule);
}
