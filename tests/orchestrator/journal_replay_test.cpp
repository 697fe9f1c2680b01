#include <doctest/doctest.h>

#include "orchestrator/fakes.hpp"
#include "orchestrator/journal_replay.hpp"
#include "orchestrator/run_orchestrator.hpp"
#include "orchestrator/run_summary.hpp"
#include "search/autolrs_search.hpp"
#include "spec/input_error.hpp"

using namespace autolrs;
using orchestrator::RunStatus;

namespace {

spec::JobSpec small_job() {
  spec::JobSpec job;
  job.name = "replayed";
  job.trainer.command = {"train", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}"};
  job.trainer.resume_args = {"--load", "{load_checkpoint}"};
  job.trainer.loss = {"loss=(?P<loss>\\S+)"};
  job.search.lr_max = 0.3;
  job.search.probes_per_stage = 3;
  job.search.first_stage_steps = 100;
  job.search.max_stage_steps = 200;
  job.total_steps = 500;
  job.run_dir = "/runs/replayed";
  return job;
}

/// Runs the job with the fake trainer; `interrupt_at` stops it at that launch.
struct RecordedRun {
  explicit RecordedRun(int interrupt_at = -1) : launcher(store) {
    launcher.interrupt_at = interrupt_at;
    orchestrator::RunOrchestrator orchestrator(job, {{"spec", "v1"}},
                                               orchestrator::RunContext{launcher, journal, store, clock, {}});
    search::AutoLrsSearch planner(job);
    status = orchestrator.run(planner, false);
    summary = planner_summary(planner);
  }
  nlohmann::json planner_summary(const search::LaunchPlanner& planner) const {
    const std::vector<orchestrator::LaunchReport> no_launches;
    return orchestrator::run_summary({job, planner.progress(), no_launches, RunStatus::running, 0, "", planner.failure()});
  }

  spec::JobSpec job = small_job();
  testing::FakeCheckpointStore store;
  testing::FakeTrainerLauncher launcher;
  testing::MemoryJournal journal;
  testing::FakeClock clock;
  RunStatus status = RunStatus::running;
  nlohmann::json summary;
};

}  // namespace

TEST_CASE("orchestrator::replay_journal brings a fresh planner to the recorded run's state, launching nothing") {
  const RecordedRun run;
  REQUIRE(run.status == RunStatus::completed);
  CHECK(orchestrator::recorded_identity(run.journal.records) == nlohmann::json{{"spec", "v1"}});

  search::AutoLrsSearch planner(run.job);
  const orchestrator::ReplayedRun replayed = orchestrator::replay_journal(run.journal.records, planner);
  CHECK(run.planner_summary(planner) == run.summary);
  CHECK(planner.finished());
  // Stagewise preset: stages 0 and 1 launch 3 probes, their 3 decay tails and the stage; the last stage
  // 3 probes (no tails) and the stage.
  CHECK(replayed.launches.size() == 7 + 7 + 4);
  CHECK(replayed.launches.back().request.id() == "stage-002");
  CHECK(replayed.end_status == RunStatus::completed);
  CHECK(replayed.elapsed_s > 0);
  CHECK(replayed.main_checkpoints == std::map<long, std::string>{{100, "/ckpt/step-000000100"},
                                                                  {300, "/ckpt/step-000000300"},
                                                                  {500, "/ckpt/step-000000500"}});
}

TEST_CASE("orchestrator::replay_journal leaves an unfinished run's launches outstanding and no end status") {
  const RecordedRun run(4);
  REQUIRE(run.status == RunStatus::interrupted);
  search::AutoLrsSearch planner(run.job);
  const orchestrator::ReplayedRun replayed = orchestrator::replay_journal(run.journal.records, planner);
  CHECK(replayed.launches.size() == 4);
  CHECK_FALSE(replayed.end_status);
  REQUIRE(planner.outstanding().size() == 1);
  // One slot: probe 0, its decay tail, probe 1, its decay tail, then probe 2 was interrupted.
  CHECK(planner.outstanding().front().id() == "stage-000-probe-02");
}

TEST_CASE("orchestrator::replay_journal rejects a journal that the planner does not reproduce, naming the line") {
  RecordedRun run;
  SUBCASE("a decision differs") {
    std::get<orchestrator::IssuedRecord>(run.journal.records[1]).launches[0].lr = 0.123;
    search::AutoLrsSearch planner(run.job);
    CHECK_THROWS_WITH_AS(orchestrator::replay_journal(run.journal.records, planner),
                         "journal.jsonl:2: the search decides differently from the journal (was it written by another autolrs version?)",
                         spec::InputError);
  }
  SUBCASE("a result for a launch never issued") {
    run.journal.records.erase(run.journal.records.begin() + 1);
    search::AutoLrsSearch planner(run.job);
    CHECK_THROWS_AS(orchestrator::replay_journal(run.journal.records, planner), spec::InputError);
  }
  SUBCASE("a result recorded twice") {
    run.journal.records.insert(run.journal.records.begin() + 3, run.journal.records[2]);
    search::AutoLrsSearch planner(run.job);
    CHECK_THROWS_WITH_AS(orchestrator::replay_journal(run.journal.records, planner),
                         doctest::Contains("journal.jsonl:4: the journal does not match the search: "), spec::InputError);
  }
  CHECK_FALSE(orchestrator::recorded_identity({}));
  CHECK_FALSE(orchestrator::recorded_identity({orchestrator::IssuedRecord{1, {}}}));
}
