#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace autolrs::orchestrator {

/// Append-only record of a run's decisions and results; the run can be rebuilt from it.
/// Implementations: journal::JsonLinesJournal (real), test fakes.
class Journal {
 public:
  virtual ~Journal() = default;
  /// Appends one record durably: it is flushed and fsync'd before this returns.
  virtual void append(const nlohmann::json& record) = 0;
  /// Every complete record, in order. A torn final record is ignored; a corrupt record elsewhere
  /// throws spec::InputError naming the file and line.
  virtual std::vector<nlohmann::json> read_all() const = 0;
};

}  // namespace autolrs::orchestrator
