#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/journal_replay.hpp"
#include "orchestrator/run_observer.hpp"
#include "search/launch_planner.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::cli {

/// The job a run used, from the identity in its journal ({"spec": <spec as written>, "dry_run": b}):
/// the spec parsed again, with `run_dir` as its run dir and, for a dry run, the simulator as its
/// trainer (the search reads the trainer's loss patterns). Relative paths in the spec are anchored
/// at `run_dir`: the rebuilt job is for planning and reports, not for launching. Throws spec::InputError.
spec::JobSpec job_for_identity(const nlohmann::json& identity, const std::string& run_dir);

/// A fresh planner of the kind the run used, chosen from its identity: runs are AutoLRS runs
/// (search::AutoLrsSearch); other planner kinds add their identity field and case here.
std::unique_ptr<search::LaunchPlanner> planner_for_identity(const spec::JobSpec& job, const nlohmann::json& identity);

/// A run rebuilt from its run dir's journal, without launching anything. Not movable: state()
/// refers to its members.
struct RebuiltRun {
  RebuiltRun(spec::JobSpec job, std::unique_ptr<search::LaunchPlanner> planner, orchestrator::ReplayedRun replayed)
      : job(std::move(job)), planner(std::move(planner)), replayed(std::move(replayed)) {}
  RebuiltRun(const RebuiltRun&) = delete;
  RebuiltRun& operator=(const RebuiltRun&) = delete;

  spec::JobSpec job;
  std::unique_ptr<search::LaunchPlanner> planner;
  orchestrator::ReplayedRun replayed;

  /// The run as observers last saw it: running when the journal has no end record (the run is
  /// still going, or was interrupted).
  orchestrator::RunState state() const;
};

/// Reads `<run_dir>/journal.jsonl` and replays it into the planner the run used. Throws
/// spec::InputError (field "RUN_DIR") when run_dir holds no journal, or naming the journal's line
/// when it is corrupt or does not replay.
std::unique_ptr<RebuiltRun> rebuild_run(const std::string& run_dir);

}  // namespace autolrs::cli
