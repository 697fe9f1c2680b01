#include "cli/run_rebuild.hpp"

#include <filesystem>

#include "cli/job_loading.hpp"
#include "journal/json_lines_journal.hpp"
#include "search/autolrs_search.hpp"
#include "spec/input_error.hpp"

namespace autolrs::cli {

namespace fs = std::filesystem;

spec::JobSpec job_for_identity(const nlohmann::json& identity, const std::string& run_dir) {
  if (!identity.is_object() || !identity.contains("spec")) {
    throw spec::InputError(std::string(orchestrator::journal_file_name) + ":1", "the run's identity has no spec");
  }
  spec::JobSpec job = spec::parse_job_spec(identity.at("spec").dump(), (fs::path(run_dir) / orchestrator::journal_file_name).string());
  job.run_dir = run_dir;
  if (identity.value("dry_run", false)) job.trainer = simulator_trainer(self_executable(), job);
  return job;
}

std::unique_ptr<search::LaunchPlanner> planner_for_identity(const spec::JobSpec& job, const nlohmann::json& /*identity*/) {
  return std::make_unique<search::AutoLrsSearch>(job);
}

orchestrator::RunState RebuiltRun::state() const {
  orchestrator::RunState state{job, planner->progress(), replayed.launches, orchestrator::RunStatus::running, 0, "", std::nullopt};
  state.status = replayed.end_status.value_or(orchestrator::RunStatus::running);
  state.wall_time_s = replayed.elapsed_s;
  const auto latest = replayed.main_checkpoints.rbegin();
  if (latest != replayed.main_checkpoints.rend()) state.final_checkpoint = latest->second;
  state.failure = planner->failure();
  return state;
}

std::unique_ptr<RebuiltRun> rebuild_run(const std::string& run_dir) {
  const std::string absolute_run_dir = fs::absolute(run_dir).lexically_normal().string();
  const journal::JsonLinesJournal journal(absolute_run_dir);
  if (!fs::exists(journal.path())) {
    throw spec::InputError("RUN_DIR", "no " + std::string(orchestrator::journal_file_name) + " in " + absolute_run_dir +
                                          ": not a run directory, or its run has not started");
  }
  const std::vector<orchestrator::JournalRecord> records = journal.read_all();
  const std::optional<nlohmann::json> identity = orchestrator::recorded_identity(records);
  if (!identity) throw spec::InputError(journal.path() + ":1", "not an autolrs journal (no \"started\" record)");
  spec::JobSpec job = job_for_identity(*identity, absolute_run_dir);
  std::unique_ptr<search::LaunchPlanner> planner = planner_for_identity(job, *identity);
  orchestrator::ReplayedRun replayed = orchestrator::replay_journal(records, *planner);
  return std::make_unique<RebuiltRun>(std::move(job), std::move(planner), std::move(replayed));
}

}  // namespace autolrs::cli
