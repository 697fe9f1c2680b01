#pragma once

#include <cstddef>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/run_observer.hpp"
#include "search/launch_types.hpp"

namespace autolrs::orchestrator {

/// Name of a run's journal inside its run directory.
inline constexpr const char* journal_file_name = "journal.jsonl";

/// The first record of a run: what must not change between the run and its resumes (the spec as
/// written and the mode: dry run, baseline schedule, range test).
struct StartedRecord {
  nlohmann::json identity;
};

/// The launches the planner handed out when asked for `free_slots` launches, in order.
struct IssuedRecord {
  int free_slots = 0;
  std::vector<search::LaunchRequest> launches;
};

/// A finished launch, journaled before anything acts on it; `elapsed_s` is the run's wall time then.
struct ResultRecord {
  LaunchReport report;
  double elapsed_s = 0;
};

/// A run that ended failed was resumed: the result at index `result_record` of the journal (the one
/// that failed the run) is set aside, so its launch runs again.
struct RetriedRecord {
  std::size_t result_record = 0;
};

/// The run ended completed or failed (an interrupted run has no such record).
struct FinishedRecord {
  RunStatus status = RunStatus::completed;
};

/// One journal record. The writer (RunOrchestrator) and the replay (replay_journal) share these types;
/// encode_record and decode_record are their one JSON form.
using JournalRecord = std::variant<StartedRecord, IssuedRecord, ResultRecord, RetriedRecord, FinishedRecord>;

/// The record as one JSON object with a "type" of "started", "issued", "result", "retried" or
/// "finished" (the journal's format; doubles read back bit-exactly).
nlohmann::json encode_record(const JournalRecord& record);
/// The inverse of encode_record. Throws nlohmann::json::exception or std::invalid_argument for an
/// object that is not such a record (a missing field, an unknown type or status).
JournalRecord decode_record(const nlohmann::json& json);

/// Append-only record of a run's decisions and results; the run can be rebuilt from it.
/// Implementations: journal::JsonLinesJournal (real), test fakes.
class Journal {
 public:
  virtual ~Journal() = default;
  /// Appends one record durably: it is flushed and fsync'd before this returns.
  virtual void append(const JournalRecord& record) = 0;
  /// Every complete record, in order. A torn final record is ignored; a corrupt or malformed record
  /// elsewhere throws spec::InputError naming the file and line ("journal.jsonl:17").
  virtual std::vector<JournalRecord> read_all() const = 0;
};

}  // namespace autolrs::orchestrator
