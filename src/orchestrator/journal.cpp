#include "orchestrator/journal.hpp"

#include <stdexcept>
#include <string>

#include "search/search_json.hpp"

namespace autolrs::orchestrator {

namespace {

/// The JSON object of each record kind, without its "type".
nlohmann::json fields(const StartedRecord& record) { return {{"identity", record.identity}}; }
nlohmann::json fields(const IssuedRecord& record) {
  return {{"free_slots", record.free_slots}, {"launches", record.launches}};
}
nlohmann::json fields(const ResultRecord& record) {
  const LaunchReport& report = record.report;
  nlohmann::json json = {{"launch", report.request},
          {"outcome", report.outcome},
          {"wall_s", report.wall_s},
          {"elapsed_s", record.elapsed_s},
          {"checkpoint", report.checkpoint},
          {"stdout_log", report.stdout_log},
          {"stderr_log", report.stderr_log}};
  if (!report.failure_log.empty()) json["failure_log"] = report.failure_log;
  if (!report.log_tail.empty()) json["log_tail"] = report.log_tail;
  return json;
}
nlohmann::json fields(const RetriedRecord& record) { return {{"result_record", record.result_record}}; }
nlohmann::json fields(const FinishedRecord& record) { return {{"status", to_string(record.status)}}; }

const char* type_of(const StartedRecord&) { return "started"; }
const char* type_of(const IssuedRecord&) { return "issued"; }
const char* type_of(const ResultRecord&) { return "result"; }
const char* type_of(const RetriedRecord&) { return "retried"; }
const char* type_of(const FinishedRecord&) { return "finished"; }

}  // namespace

nlohmann::json encode_record(const JournalRecord& record) {
  return std::visit(
      [](const auto& typed) {
        nlohmann::json json = {{"type", type_of(typed)}};
        json.update(fields(typed));
        return json;
      },
      record);
}

JournalRecord decode_record(const nlohmann::json& json) {
  const std::string type = json.at("type").get<std::string>();
  if (type == "started") return StartedRecord{json.at("identity")};
  if (type == "issued") {
    return IssuedRecord{json.at("free_slots").get<int>(), json.at("launches").get<std::vector<search::LaunchRequest>>()};
  }
  if (type == "result") {
    ResultRecord record;
    LaunchReport& report = record.report;
    report.request = json.at("launch").get<search::LaunchRequest>();
    report.outcome = json.at("outcome").get<search::LaunchOutcome>();
    report.wall_s = json.at("wall_s").get<double>();
    report.checkpoint = json.at("checkpoint").get<std::string>();
    report.stdout_log = json.at("stdout_log").get<std::string>();
    report.stderr_log = json.at("stderr_log").get<std::string>();
    // Absent in journals of versions before the trainer checks.
    report.failure_log = json.value("failure_log", std::string());
    report.log_tail = json.value("log_tail", std::vector<std::string>());
    record.elapsed_s = json.at("elapsed_s").get<double>();
    return record;
  }
  if (type == "retried") return RetriedRecord{json.at("result_record").get<std::size_t>()};
  if (type == "finished") {
    const std::string status = json.at("status").get<std::string>();
    if (status == to_string(RunStatus::completed)) return FinishedRecord{RunStatus::completed};
    if (status == to_string(RunStatus::failed)) return FinishedRecord{RunStatus::failed};
    throw std::invalid_argument("unknown run status \"" + status + "\"");
  }
  throw std::invalid_argument("unknown record type \"" + type + "\"");
}

}  // namespace autolrs::orchestrator
