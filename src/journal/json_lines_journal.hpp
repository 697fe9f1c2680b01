#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/journal.hpp"

namespace autolrs::journal {

/// The records read from the text of a journal file.
struct ParsedJournal {
  std::vector<nlohmann::json> records;
  /// Length of the text up to and including the last complete record's '\n'; anything after it is
  /// a torn record, cut off by a crash during an append.
  std::size_t complete_bytes = 0;
};

/// Parses journal text: one JSON value per line, each line ending in '\n'. The final line is torn,
/// and ignored, when it has no '\n' or is not valid JSON. Any other line that is not valid JSON
/// throws spec::InputError with field "<file_name>:<line number>" and reason "corrupt record: ...".
/// Exposed for testing and fuzzing.
ParsedJournal parse_journal_text(std::string_view text, const std::string& file_name);

/// The journal of a run: `<run_dir>/journal.jsonl` (orchestrator::journal_file_name), one compact JSON
/// record (orchestrator::encode_record) per line.
///
/// A result's paths inside the run dir (its checkpoint and logs) are stored relative to it and read
/// back under the run dir as it is named now: a run dir moved, copied or reached through a symlink
/// resumes. Paths outside it (none today), and the absolute paths of older journals, are kept as they are.
///
/// The file is created by the first append, atomically with that record; a torn tail left by a crash
/// is cut off by the first append of a later process, so that the next record starts on a fresh line. Each append is a single write() to a descriptor
/// opened with O_APPEND, followed by fsync().
/// Not safe for concurrent use: the orchestrator appends from one thread.
class JsonLinesJournal : public orchestrator::Journal {
 public:
  /// Touches nothing until the first append; `run_dir` must exist by then.
  explicit JsonLinesJournal(const std::string& run_dir);
  ~JsonLinesJournal() override;
  JsonLinesJournal(const JsonLinesJournal&) = delete;
  JsonLinesJournal& operator=(const JsonLinesJournal&) = delete;

  /// Invalid UTF-8 in strings is written as U+FFFD, so that hostile trainer output quoted in a
  /// record cannot make the append fail. Throws spec::InputError when the existing journal has a
  /// corrupt record, std::system_error on an IO failure: the record may then be in the file or not,
  /// and a partial one is cut off by the next append.
  void append(const orchestrator::JournalRecord& record) override;
  /// Empty when the file does not exist. Throws spec::InputError naming the line of a corrupt record
  /// or of one that is not a journal record ("malformed record: ..."), std::system_error when the
  /// file cannot be read.
  std::vector<orchestrator::JournalRecord> read_all() const override;

  const std::string& path() const { return m_path; }

 private:
  void open_for_append();

  std::string m_run_dir;
  std::string m_path;
  int m_fd = -1;  ///< open for appending from the first append on
};

}  // namespace autolrs::journal
