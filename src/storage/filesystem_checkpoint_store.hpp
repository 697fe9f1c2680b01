#pragma once

#include <string>

#include "orchestrator/checkpoint_store.hpp"

namespace autolrs::storage {

/// Where FilesystemCheckpointStore(run_dir).staging_path(name) stages checkpoint `name`, computed
/// without touching the filesystem (for `autolrs validate`).
std::string staging_checkpoint_path(const std::string& run_dir, const std::string& name);

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
  /// every staging leftover (any name containing ".staging"): one autolrs works on a run dir at a
  /// time, so they belong to launches of an earlier process that will be run again.
  explicit FilesystemCheckpointStore(const std::string& run_dir);

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

 private:
  std::string m_root;  ///< absolute, lexically normal
};

}  // namespace autolrs::storage
