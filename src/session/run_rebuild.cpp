#include "session/run_rebuild.hpp"

#include <algorithm>
#include <filesystem>

#include "journal/json_lines_journal.hpp"
#include "orchestrator/trainer_checks.hpp"
#include "report/compare_report.hpp"
#include "report/html_report.hpp"
#include "report/html_report_writer.hpp"
#include "session/run_identity.hpp"
#include "spec/input_error.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::session {

namespace fs = std::filesystem;

orchestrator::RunState RebuiltRun::state() const {
  orchestrator::RunState state{job, planner->progress(), replayed.launches, orchestrator::RunStatus::running, 0, "", std::nullopt};
  state.status = replayed.end_status.value_or(orchestrator::RunStatus::running);
  state.wall_time_s = replayed.elapsed_s;
  const auto latest = replayed.main_checkpoints.rbegin();
  if (latest != replayed.main_checkpoints.rend()) state.final_checkpoint = latest->second;
  state.failure = orchestrator::first_stop(job, replayed.launches);
  if (!state.failure) state.failure = planner->failure();
  state.method = method;
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
  const std::optional<nlohmann::json> recorded = orchestrator::recorded_identity(records);
  if (!recorded) throw spec::InputError(journal.path() + ":1", "not an autolrs journal (no \"started\" record)");
  const RunIdentity identity = identity_from_json(*recorded);
  spec::JobSpec job = job_for_identity(identity, absolute_run_dir);
  std::unique_ptr<search::LaunchPlanner> planner = make_planner(job, identity.kind);
  orchestrator::ReplayedRun replayed = orchestrator::replay_journal(records, *planner);
  std::string method = describe_method(identity.kind, job);
  return std::make_unique<RebuiltRun>(std::move(job), std::move(planner), std::move(replayed), std::move(method));
}

void write_report(const std::string& run_dir, std::ostream& out) {
  const std::unique_ptr<RebuiltRun> run = rebuild_run(run_dir);
  const orchestrator::RunState state = run->state();
  const std::string path = run->job.run_dir + "/" + report::HtmlReportWriter::file_name;
  storage::write_file_atomically(path, report::render_html_report(state));
  out << path << " (run " << orchestrator::to_string(state.status) << ")\n";
}

void write_comparison(const std::vector<std::string>& run_dirs, std::ostream& out) {
  std::vector<fs::path> folders;
  for (const std::string& run_dir : run_dirs) {
    const fs::path folder = fs::weakly_canonical(fs::absolute(run_dir));
    if (std::find(folders.begin(), folders.end(), folder) != folders.end()) {
      throw spec::InputError("--compare", run_dir + " is given twice (as " + folder.string() + "): each run is compared once");
    }
    folders.push_back(folder);
  }
  std::vector<std::unique_ptr<RebuiltRun>> runs;
  std::vector<orchestrator::RunState> states;
  for (const std::string& run_dir : run_dirs) {
    runs.push_back(rebuild_run(run_dir));
    states.push_back(runs.back()->state());
  }
  const std::string path = runs.front()->job.run_dir + "/" + report::compare_file_name;
  storage::write_file_atomically(path, report::render_compare_report(states));
  out << path << " (" << states.size() << " runs)\n";
}

}  // namespace autolrs::session
