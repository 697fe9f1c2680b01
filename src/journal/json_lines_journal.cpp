#include "journal/json_lines_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "spec/input_error.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::journal {
namespace {

std::system_error io_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

/// The whole content of `path`; empty when the file does not exist.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw io_error("cannot open " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw io_error("cannot read " + path);
  return text.str();
}

/// `path` relative to `run_dir` when it lies inside it ("checkpoints/step-000000100"), else as it is.
std::string relative_to(const std::filesystem::path& run_dir, const std::string& path) {
  if (path.empty() || !std::filesystem::path(path).is_absolute()) return path;
  const std::filesystem::path inside = std::filesystem::path(path).lexically_normal().lexically_relative(run_dir);
  if (inside.empty() || *inside.begin() == "..") return path;
  return inside.string();
}

/// A path as the journal holds it, made absolute again under the run dir as it is now.
std::string resolved_in(const std::filesystem::path& run_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;  // absolute: an older journal's
  return (run_dir / path).string();
}

/// `record` with its result's paths mapped by `map` (the others hold no path).
orchestrator::JournalRecord with_paths(orchestrator::JournalRecord record, const std::function<std::string(const std::string&)>& map) {
  if (auto* result = std::get_if<orchestrator::ResultRecord>(&record)) {
    orchestrator::LaunchReport& report = result->report;
    for (std::string* path : {&report.checkpoint, &report.stdout_log, &report.stderr_log}) *path = map(*path);
  }
  return record;
}

}  // namespace

ParsedJournal parse_journal_text(std::string_view text, const std::string& file_name) {
  ParsedJournal parsed;
  std::size_t line_number = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    ++line_number;
    const std::size_t newline = text.find('\n', begin);
    if (newline == std::string_view::npos) break;  // torn: the append was cut before its '\n'
    const std::string_view line = text.substr(begin, newline - begin);
    std::string problem;
    try {
      parsed.records.push_back(nlohmann::json::parse(line.begin(), line.end()));
    } catch (const nlohmann::json::parse_error& error) {
      problem = "not valid JSON at byte " + std::to_string(error.byte) + " of the line";
    } catch (const nlohmann::json::out_of_range&) {
      problem = "a number out of range";  // e.g. 1e999
    }
    if (!problem.empty()) {
      if (newline + 1 == text.size()) break;  // torn: the last line, e.g. zeros left by a crash
      throw spec::InputError(file_name + ":" + std::to_string(line_number),
                             "corrupt record (" + problem + "); only the last line of a journal may be incomplete");
    }
    begin = newline + 1;
    parsed.complete_bytes = begin;
  }
  return parsed;
}

JsonLinesJournal::JsonLinesJournal(const std::string& run_dir)
    : m_run_dir(run_dir), m_path(run_dir + "/" + orchestrator::journal_file_name) {}

JsonLinesJournal::~JsonLinesJournal() {
  if (m_fd >= 0) ::close(m_fd);
}

void JsonLinesJournal::open_for_append() {
  const std::string text = read_file(m_path).value_or("");
  const ParsedJournal parsed = parse_journal_text(text, orchestrator::journal_file_name);  // refuses a corrupt journal
  const int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("cannot open " + m_path);
  if (parsed.complete_bytes < text.size()) {  // cut the torn tail so the next record starts a line
    if (::ftruncate(fd, static_cast<off_t>(parsed.complete_bytes)) != 0 || ::fsync(fd) != 0) {
      const std::system_error error = io_error("cannot cut the torn end of " + m_path);
      ::close(fd);
      throw error;
    }
  }
  m_fd = fd;
  storage::fsync_path(m_run_dir);  // the file may be new: make its name durable too
}

void JsonLinesJournal::append(const orchestrator::JournalRecord& record) {
  // Paths inside the run dir are journaled relative to it, so that a run dir moved, copied or reached
  // through a symlink can still be resumed and reported.
  const std::filesystem::path run_dir = std::filesystem::absolute(m_run_dir).lexically_normal();
  const orchestrator::JournalRecord relative =
      with_paths(record, [&](const std::string& path) { return relative_to(run_dir, path); });
  const std::string line =
      orchestrator::encode_record(relative).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
  if (m_fd < 0 && !std::filesystem::exists(m_path)) {
    // A new journal appears with its first record, never empty: `autolrs report` or `--resume` started
    // at that moment reads a run, not "no started record".
    storage::write_file_atomically(m_path, line);
    open_for_append();
    return;
  }
  if (m_fd < 0) open_for_append();
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t written = ::write(m_fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) break;
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (!rest.empty() || ::fsync(m_fd) != 0) {
    const std::system_error error = io_error("cannot append to " + m_path);
    ::close(m_fd);  // the next append reopens the file and cuts a partial record, as after a crash
    m_fd = -1;
    throw error;
  }
}

std::vector<orchestrator::JournalRecord> JsonLinesJournal::read_all() const {
  const std::optional<std::string> text = read_file(m_path);
  if (!text) return {};
  const std::vector<nlohmann::json> lines = parse_journal_text(*text, orchestrator::journal_file_name).records;
  std::vector<orchestrator::JournalRecord> records;
  records.reserve(lines.size());
  const std::filesystem::path run_dir = std::filesystem::absolute(m_run_dir).lexically_normal();
  const auto resolve = [&](const std::string& path) { return resolved_in(run_dir, path); };
  for (const nlohmann::json& line : lines) {
    try {
      records.push_back(with_paths(orchestrator::decode_record(line), resolve));
    } catch (const std::exception& error) {  // valid JSON, but not a journal record
      throw spec::InputError(std::string(orchestrator::journal_file_name) + ":" + std::to_string(records.size() + 1),
                             std::string("malformed record: ") + error.what());
    }
  }
  return records;
}

}  // namespace autolrs::journal
