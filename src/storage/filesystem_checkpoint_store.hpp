#pragma once

#include <functional>
#include <string>

#include "orchestrator/checkpoint_store.hpp"

namespace autolrs::storage {

/// Where FilesystemCheckpointStore(run_dir).staging_path(name) stages checkpoint `name`, computed
/// without touching the filesystem (for `autolrs validate`).
std::string staging_checkpoint_path(const std::string& run_dir, const std::string& name);

/// Whether a checkpoint name is one the store's user gives (orchestrator::is_checkpoint_name).
using OwnsCheckpointName = std::function<bool(const std::string& name)>;

/// Checkpoints as files or directories under `<run_dir>/checkpoints`.
///
/// A launch writes to `<root>/<name>.staging`; promote() fsyncs what was written, renames it to
/// `<root>/<name>` and fsyncs the folder, so a promoted checkpoint survives a crash or power loss.
/// Replacing an existing directory (rename cannot replace a non-empty one) moves the old one to
/// `<name>.old` first and removes it afterwards; should the process die in between, constructing
/// the store puts the old one back (the promotion did not happen) or, when the new one is in
/// place, removes it. Names are plain file names chosen by the orchestrator: a name with '/' or
/// ".staging", ending in ".old", or one of "", ".", ".." is a programming error (std::invalid_argument). IO failures throw
/// std::filesystem::filesystem_error or std::system_error.
class FilesystemCheckpointStore : public orchestrator::CheckpointStore {
 public:
  /// Creates the root folder when missing, finishes a replacement cut short by a crash, and removes
  /// the staging leftovers (`<name>.staging*`): one autolrs works on a run dir at a time, so they
  /// belong to launches of an earlier process that will be run again. Only entries whose `<name>`
  /// satisfies `owns_name` are touched: whatever else is in the folder is not ours.
  FilesystemCheckpointStore(const std::string& run_dir, OwnsCheckpointName owns_name);

  /// `<root>/<name>.staging`, after removing it and every `<name>.staging*` sibling (the
  /// `.staging.tmp.<pid>` files a trainer killed mid-save leaves), so leftovers never accumulate.
  std::string staging_path(const std::string& name) override;
  bool is_valid(const std::string& path) const override;
  std::vector<std::string> near_misses(const std::string& staging) const override;
  std::string promote(const std::string& staging, const std::string& name) override;
  /// Only paths inside the root are removed: anything else is std::invalid_argument, a guard
  /// against deleting the user's files through a wrong path. Removing a staging path also removes
  /// its `<staging>*` siblings, as staging_path() does.
  void remove(const std::string& path) override;

  const std::string& root() const { return m_root; }
  /// Removes every checkpoint of ours in the root (entries whose `<name>`, before any ".staging" or
  /// ".old", satisfies `owns_name`), for a run that is never resumed.
  void remove_all_own();

 private:
  std::string m_root;  ///< absolute, lexically normal
  OwnsCheckpointName m_owns_name;
};

}  // namespace autolrs::storage
