#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "orchestrator/journal_replay.hpp"
#include "orchestrator/run_observer.hpp"
#include "search/launch_planner.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::session {

/// A run rebuilt from its run dir's journal, without launching anything. Not movable: state()
/// refers to its members.
struct RebuiltRun {
  RebuiltRun(spec::JobSpec job, std::unique_ptr<search::LaunchPlanner> planner, orchestrator::ReplayedRun replayed,
             std::string method)
      : job(std::move(job)), planner(std::move(planner)), replayed(std::move(replayed)), method(std::move(method)) {}
  RebuiltRun(const RebuiltRun&) = delete;
  RebuiltRun& operator=(const RebuiltRun&) = delete;

  spec::JobSpec job;
  std::unique_ptr<search::LaunchPlanner> planner;
  orchestrator::ReplayedRun replayed;
  std::string method;  ///< see orchestrator::RunState::method

  /// The run as observers last saw it: running when the journal has no end record (the run is
  /// still going, or was interrupted).
  orchestrator::RunState state() const;
};

/// Reads `<run_dir>/journal.jsonl` and replays it into a planner of the kind the run used (an
/// AutoLRS run, a baseline or a range test: its identity says, see make_planner). Throws
/// spec::InputError (field "RUN_DIR") when run_dir holds no journal, or naming the journal's line
/// when it is corrupt or does not replay.
std::unique_ptr<RebuiltRun> rebuild_run(const std::string& run_dir);

/// `autolrs report`: writes `<run_dir>/report.html` for the run recorded there (finished or still
/// running, of any kind) and prints "<path> (run <status>)" to `out`. Throws like rebuild_run.
void write_report(const std::string& run_dir, std::ostream& out);

/// `autolrs report RUN --compare RUN...`: rebuilds the runs of `run_dirs` (any kinds, finished or
/// not) and writes `<run_dirs[0]>/compare.html` (report::render_compare_report, runs in the given
/// order), then prints "<path> (<N> runs)" to `out`. Throws like rebuild_run, and spec::InputError
/// (field "--compare") when two of run_dirs are the same folder, before writing anything.
void write_comparison(const std::vector<std::string>& run_dirs, std::ostream& out);

}  // namespace autolrs::session
