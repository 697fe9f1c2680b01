#include "orchestrator/journal_replay.hpp"

#include <set>
#include <stdexcept>
#include <string>

#include "spec/input_error.hpp"

namespace autolrs::orchestrator {

std::optional<nlohmann::json> recorded_identity(const std::vector<JournalRecord>& records) {
  if (records.empty()) return std::nullopt;
  const auto* started = std::get_if<StartedRecord>(&records.front());
  if (!started) return std::nullopt;
  return started->identity;
}

ReplayedRun replay_journal(const std::vector<JournalRecord>& records, search::LaunchPlanner& planner) {
  ReplayedRun replayed;
  // Results that failed a run which was then resumed are set aside: their launches run again.
  std::set<size_t> set_aside;
  for (const JournalRecord& record : records) {
    if (const auto* retried = std::get_if<RetriedRecord>(&record)) set_aside.insert(retried->result_record);
  }
  for (size_t i = 1; i < records.size(); ++i) {
    const std::string where = std::string(journal_file_name) + ":" + std::to_string(i + 1);
    try {
      if (const auto* issued = std::get_if<IssuedRecord>(&records[i])) {
        if (planner.next_launches(issued->free_slots) != issued->launches) {
          throw spec::InputError(where, "the search decides differently from the journal (was it written by another autolrs version?)");
        }
      } else if (const auto* result = std::get_if<ResultRecord>(&records[i])) {
        if (set_aside.count(i) != 0) continue;
        const LaunchReport& report = result->report;
        replayed.elapsed_s = result->elapsed_s;
        planner.record(report.request, report.outcome);
        if (report.request.kind != search::LaunchKind::probe && report.outcome.status == search::OutcomeStatus::succeeded) {
          replayed.main_checkpoints[report.request.start_step + report.request.steps] = report.checkpoint;
        }
        replayed.launches.push_back(report);
      } else if (const auto* finished = std::get_if<FinishedRecord>(&records[i])) {
        replayed.end_status = finished->status;
      }
    } catch (const std::logic_error& error) {  // the planner was handed a launch it had not issued
      throw spec::InputError(where, std::string("the journal does not match the search: ") + error.what());
    }
  }
  return replayed;
}

}  // namespace autolrs::orchestrator
