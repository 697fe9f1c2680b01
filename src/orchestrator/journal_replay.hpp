#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/journal.hpp"
#include "orchestrator/run_observer.hpp"
#include "search/launch_planner.hpp"

namespace autolrs::orchestrator {

/// A run rebuilt from its journal, without launching anything.
struct ReplayedRun {
  std::vector<LaunchReport> launches;               ///< finished launches, in journal order
  std::map<long, std::string> main_checkpoints;     ///< model step → checkpoint promoted by a main launch ending there
  double elapsed_s = 0;                             ///< run wall time when the last result was journaled
  std::optional<RunStatus> end_status;              ///< from the "finished" record; none while running or interrupted
};

/// The run identity in a journal's first ("started") record, or nullopt when `records` do not begin
/// with one (an empty journal).
std::optional<nlohmann::json> recorded_identity(const std::vector<JournalRecord>& records);

/// Brings `planner` (fresh, in its initial state, the kind the run used) to where the journaled run
/// left it by replaying the decisions ("issued") and results ("result") recorded after the
/// "started" record, and returns the launches' reports. A result named by a later "retried" record
/// (the result that failed a run which was then resumed) is skipped: its launch stays outstanding.
/// Launches issued and not finished stay outstanding in the planner. Throws
/// spec::InputError("journal.jsonl:<line>", ...) when the planner decides differently from the journal.
ReplayedRun replay_journal(const std::vector<JournalRecord>& records, search::LaunchPlanner& planner);

}  // namespace autolrs::orchestrator
