#include "session/run_dir.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "journal/json_lines_journal.hpp"
#include "orchestrator/journal.hpp"
#include "spec/input_error.hpp"

namespace autolrs::session {

namespace fs = std::filesystem;

namespace {

spec::InputError in_use(const std::string& run_dir) {
  const std::optional<long> holder = storage::RunDirLock::holder_pid(run_dir);
  return spec::InputError("run_dir", run_dir + " is in use by another autolrs" +
                                         (holder ? " (pid " + std::to_string(*holder) + ")" : std::string()) +
                                         "; wait for it to end or stop it, or choose another run_dir");
}

/// Whether the run dir's journal holds a run. A journal without a complete record (autolrs was
/// killed before its first append finished) holds none: a new one may start there.
bool journal_holds_run(const std::string& run_dir) { return !journal::JsonLinesJournal(run_dir).read_all().empty(); }

/// Entries of a run dir without a recorded run that autolrs may have made itself: an autolrs killed
/// before its first journal record leaves its lock, a torn journal and empty logs/ and checkpoints/.
bool is_leftover_of_unstarted_run(const fs::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  std::error_code error;
  if (name == storage::RunDirLock::file_name || name == orchestrator::journal_file_name) {
    return entry.is_regular_file(error) && !entry.is_symlink(error);
  }
  if (name == "logs" || name == "checkpoints") {
    return entry.is_directory(error) && !entry.is_symlink(error) && fs::is_empty(entry.path(), error) && !error;
  }
  return false;
}

/// Names of the entries of `run_dir` that no autolrs made (at most a few, for the message).
std::vector<std::string> foreign_entries(const std::string& run_dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(run_dir, error), end; !error && it != end; it.increment(error)) {
    if (!is_leftover_of_unstarted_run(*it)) names.push_back(it->path().filename().string());
  }
  if (error) throw spec::InputError("run_dir", "cannot list " + run_dir + ": " + error.message());
  std::sort(names.begin(), names.end());
  return names;
}

/// Refuses a run dir that holds files no autolrs made: a new run writes, renames and deletes files
/// there, so it must never start among someone else's.
void check_holds_nothing_foreign(const std::string& run_dir) {
  const std::vector<std::string> names = foreign_entries(run_dir);
  if (names.empty()) return;
  std::string listed;
  for (size_t i = 0; i < names.size() && i < 3; ++i) listed += (i ? ", " : "") + names[i];
  if (names.size() > 3) listed += ", ...";
  throw spec::InputError("run_dir", run_dir + " is not empty and holds no autolrs run (" + listed +
                                        "); a new run needs a new or empty folder: choose another run_dir");
}

}  // namespace

RunDirInspection inspect_run_dir(const std::string& run_dir) {
  const fs::path path = run_dir;
  std::error_code error;
  if (fs::exists(path, error)) {
    if (!fs::is_directory(path, error)) throw spec::InputError("run_dir", "not a directory: " + run_dir);
    if (::access(path.c_str(), W_OK | X_OK) != 0) throw spec::InputError("run_dir", "not writable: " + run_dir);
    if (storage::RunDirLock::is_held(run_dir)) throw in_use(run_dir);
    if (journal_holds_run(run_dir)) return {RunDirState::holds_run, ""};
    check_holds_nothing_foreign(run_dir);
    return {RunDirState::no_run, ""};
  }
  fs::path existing = path.parent_path();
  while (!existing.empty() && !fs::exists(existing, error) && existing != existing.root_path()) existing = existing.parent_path();
  if (!fs::is_directory(existing, error) || ::access(existing.c_str(), W_OK | X_OK) != 0) {
    throw spec::InputError("run_dir", "cannot be created: " + existing.string() + " is not a writable directory");
  }
  return {RunDirState::absent, existing.string()};
}

void check_run_dir_use(RunDirState state, const std::string& run_dir, bool resume) {
  if (resume && state != RunDirState::holds_run) throw spec::InputError("--resume", "no run to resume in " + run_dir);
  if (!resume && state == RunDirState::holds_run) {
    throw spec::InputError("run_dir", run_dir + " already holds a run; continue it with --resume, or choose another run_dir");
  }
}

std::string describe(const RunDirInspection& inspection) {
  switch (inspection.state) {
    case RunDirState::absent: return "will be created (in " + inspection.created_in + ")";
    case RunDirState::no_run: return "exists, holds no run and no other files";
    case RunDirState::holds_run: return "holds a run: `autolrs run` needs --resume or another run_dir";
  }
  return "?";
}

storage::RunDirLock prepare_run_dir(const std::string& run_dir, bool resume) {
  // Refused before anything is created: a mistyped run dir with --resume leaves no folder behind.
  check_run_dir_use(inspect_run_dir(run_dir).state, run_dir, resume);
  std::error_code error;
  for (const char* folder : {"logs", "checkpoints"}) {
    fs::create_directories(fs::path(run_dir) / folder, error);
    if (error) throw spec::InputError("run_dir", "cannot create " + (fs::path(run_dir) / folder).string() + ": " + error.message());
  }
  // Locked before the journal is read again, so two autolrs started on one run dir cannot both begin a run.
  std::optional<storage::RunDirLock> lock = [&] {
    try {
      return storage::RunDirLock::try_acquire(run_dir);
    } catch (const std::runtime_error& failure) {
      throw spec::InputError("run_dir", failure.what());
    }
  }();
  if (!lock) throw in_use(run_dir);
  check_run_dir_use(journal_holds_run(run_dir) ? RunDirState::holds_run : RunDirState::no_run, run_dir, resume);
  return std::move(*lock);
}

}  // namespace autolrs::session
