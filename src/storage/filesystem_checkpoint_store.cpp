#include "storage/filesystem_checkpoint_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "storage/atomic_file.hpp"

namespace autolrs::storage {
namespace {

namespace fs = std::filesystem;

const std::string staging_suffix = ".staging";
const std::string set_aside_suffix = ".old";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find(staging_suffix) != std::string::npos || ends_with(name, set_aside_suffix)) {
    throw std::invalid_argument("checkpoint name must be a plain file name without " + staging_suffix +
                                " and not ending in " + set_aside_suffix + ", got '" + name + "'");
  }
}

/// fsync() of a checkpoint: the file, or every file and folder of the directory.
void fsync_checkpoint(const fs::path& path) {
  if (fs::is_directory(fs::symlink_status(path))) {
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(path)) {
      const fs::file_status status = entry.symlink_status();
      if (fs::is_regular_file(status) || fs::is_directory(status)) fsync_path(entry.path().string());
    }
  }
  fsync_path(path.string());
}

bool is_non_empty_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error) && fs::file_size(path, error) > 0 && !error;
}

/// The checkpoint name an entry of the root belongs to: its file name up to ".staging", or without
/// a trailing ".old".
std::string base_name(const std::string& file_name) {
  const size_t staging = file_name.find(staging_suffix);
  if (staging != std::string::npos) return file_name.substr(0, staging);
  if (ends_with(file_name, set_aside_suffix)) return file_name.substr(0, file_name.size() - set_aside_suffix.size());
  return file_name;
}

fs::path checkpoints_root(const std::string& run_dir) { return (fs::absolute(run_dir) / "checkpoints").lexically_normal(); }
/// Removes every entry of `root` whose name starts with `prefix`: a staging checkpoint and the
/// temporary files a trainer made beside it (e.g. `<staging>.tmp.<pid>` of a save cut short).
void remove_entries_starting_with(const fs::path& root, const std::string& prefix) {
  for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(entry.path());
  }
}

}  // namespace

std::string staging_checkpoint_path(const std::string& run_dir, const std::string& name) {
  check_name(name);
  return (checkpoints_root(run_dir) / (name + staging_suffix)).string();
}

FilesystemCheckpointStore::FilesystemCheckpointStore(const std::string& run_dir, OwnsCheckpointName owns_name)
    : m_root(checkpoints_root(run_dir).string()), m_owns_name(std::move(owns_name)) {
  fs::create_directories(m_root);
  // A promotion that set an old checkpoint aside and died before removing it (see promote()).
  bool changed = false;
  for (const fs::directory_entry& entry : fs::directory_iterator(m_root)) {
    const std::string file_name = entry.path().filename().string();
    if (!ends_with(file_name, set_aside_suffix) || file_name.find(staging_suffix) != std::string::npos ||
        !m_owns_name(base_name(file_name))) {
      continue;
    }
    const fs::path promoted = fs::path(m_root) / file_name.substr(0, file_name.size() - set_aside_suffix.size());
    if (fs::exists(fs::symlink_status(promoted))) {
      fs::remove_all(entry.path());  // the new checkpoint is in place
    } else {
      fs::rename(entry.path(), promoted);  // it is not: the promotion did not happen
    }
    changed = true;
  }
  if (changed) fsync_path(m_root);
  // Staging leftovers of launches that a previous autolrs process left running or killed: a run
  // dir has one autolrs at a time, so none of them is being written now.
  for (const fs::directory_entry& entry : fs::directory_iterator(m_root)) {
    const std::string file_name = entry.path().filename().string();
    if (file_name.find(staging_suffix) != std::string::npos && m_owns_name(base_name(file_name))) fs::remove_all(entry.path());
  }
}

void FilesystemCheckpointStore::remove_all_own() {
  std::vector<fs::path> own;
  for (const fs::directory_entry& entry : fs::directory_iterator(m_root)) {
    if (m_owns_name(base_name(entry.path().filename().string()))) own.push_back(entry.path());
  }
  for (const fs::path& path : own) fs::remove_all(path);
}

std::string FilesystemCheckpointStore::staging_path(const std::string& name) {
  check_name(name);
  const fs::path staging = fs::path(m_root) / (name + staging_suffix);
  remove_entries_starting_with(m_root, staging.filename().string());
  return staging.string();
}

bool FilesystemCheckpointStore::is_valid(const std::string& path) const {
  std::error_code error;
  if (!fs::is_directory(path, error)) return is_non_empty_file(path);
  for (fs::recursive_directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    if (is_non_empty_file(it->path())) return true;
  }
  return false;
}

std::vector<std::string> FilesystemCheckpointStore::near_misses(const std::string& staging) const {
  const std::string prefix = fs::path(staging).filename().string();
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(fs::path(staging).parent_path(), error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name != prefix && name.starts_with(prefix)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string FilesystemCheckpointStore::promote(const std::string& staging, const std::string& name) {
  check_name(name);
  const fs::path promoted = fs::path(m_root) / name;
  const fs::path set_aside = fs::path(m_root) / (name + set_aside_suffix);
  fsync_checkpoint(staging);  // the data must be on disk before the rename makes it the checkpoint

  // rename() replaces a file atomically, but not a non-empty directory, nor a file by a directory
  // or the other way round: then the old checkpoint is set aside first.
  const fs::file_status old_status = fs::symlink_status(promoted);
  const bool replace_by_rename =
      !fs::exists(old_status) || (fs::is_regular_file(old_status) && fs::is_regular_file(fs::symlink_status(staging)));
  if (!replace_by_rename) {
    fs::remove_all(set_aside);
    fs::rename(promoted, set_aside);
  }
  fs::rename(staging, promoted);
  fsync_path(m_root);
  if (!replace_by_rename) fs::remove_all(set_aside);
  return promoted.string();
}

void FilesystemCheckpointStore::remove(const std::string& path) {
  const fs::path target = fs::absolute(path).lexically_normal();
  const fs::path inside = target.lexically_relative(m_root);
  if (inside.empty() || inside == "." || *inside.begin() == "..") {
    throw std::invalid_argument("refusing to remove " + target.string() + ": not inside " + m_root);
  }
  if (ends_with(target.filename().string(), staging_suffix) && target.parent_path() == m_root) {
    remove_entries_starting_with(m_root, target.filename().string());
  } else {
    fs::remove_all(target);
  }
}

}  // namespace autolrs::storage
