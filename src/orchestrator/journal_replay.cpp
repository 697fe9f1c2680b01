#include "orchestrator/journal_replay.hpp"

#include <set>

#include "search/search_json.hpp"
#include "spec/input_error.hpp"

namespace autolrs::orchestrator {

std::optional<nlohmann::json> recorded_identity(const std::vector<nlohmann::json>& records) {
  if (records.empty() || !records.front().is_object() || records.front().value("type", "") != "started" ||
      !records.front().contains("identity")) {
    return std::nullopt;
  }
  return records.front().at("identity");
}

ReplayedRun replay_journal(const std::vector<nlohmann::json>& records, search::LaunchPlanner& planner) {
  ReplayedRun replayed;
  // Results that failed a run which was then resumed are set aside: their launches run again.
  std::set<size_t> set_aside;
  for (const nlohmann::json& record : records) {
    if (record.value("type", "") == "retried") set_aside.insert(record.value("result_record", size_t{0}));
  }
  for (size_t i = 1; i < records.size(); ++i) {
    const nlohmann::json& record = records[i];
    const std::string where = "journal.jsonl:" + std::to_string(i + 1);
    try {
      const std::string type = record.value("type", "");
      if (type == "result" && set_aside.count(i) != 0) continue;
      if (type == "issued") {
        const std::vector<search::LaunchRequest> issued = planner.next_launches(record.at("free_slots").get<int>());
        if (issued != record.at("launches").get<std::vector<search::LaunchRequest>>()) {
          throw spec::InputError(where, "the search decides differently from the journal (was it written by another autolrs version?)");
        }
      } else if (type == "result") {
        LaunchReport report;
        report.request = record.at("launch").get<search::LaunchRequest>();
        report.outcome = record.at("outcome").get<search::LaunchOutcome>();
        report.wall_s = record.at("wall_s").get<double>();
        report.checkpoint = record.at("checkpoint").get<std::string>();
        report.stdout_log = record.at("stdout_log").get<std::string>();
        report.stderr_log = record.at("stderr_log").get<std::string>();
        replayed.elapsed_s = record.at("elapsed_s").get<double>();
        planner.record(report.request, report.outcome);
        if (report.request.kind != search::LaunchKind::probe && report.outcome.status == search::OutcomeStatus::succeeded) {
          replayed.main_checkpoints[report.request.start_step + report.request.steps] = report.checkpoint;
        }
        replayed.launches.push_back(std::move(report));
      } else if (type == "finished") {
        const std::string status = record.at("status").get<std::string>();
        replayed.end_status = status == "completed" ? RunStatus::completed : RunStatus::failed;
      }
    } catch (const nlohmann::json::exception& error) {
      throw spec::InputError(where, std::string("malformed record: ") + error.what());
    } catch (const std::logic_error& error) {  // the planner was handed a launch it had not issued
      throw spec::InputError(where, std::string("the journal does not match the search: ") + error.what());
    }
  }
  return replayed;
}

}  // namespace autolrs::orchestrator
