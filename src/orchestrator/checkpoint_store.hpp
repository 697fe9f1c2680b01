#pragma once

#include <string>
#include <vector>

namespace autolrs::orchestrator {

/// Where launches write checkpoints and how finished ones become durable. A checkpoint is a file or a
/// directory (sharded checkpoints). Implementations: storage::FilesystemCheckpointStore, test fakes.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  /// A fresh staging path for the checkpoint to be named `name`, in the same folder as its final
  /// place; anything left there by an earlier attempt is removed first.
  virtual std::string staging_path(const std::string& name) = 0;
  /// True when `path` is a non-empty file or a directory holding at least one non-empty file.
  virtual bool is_valid(const std::string& path) const = 0;
  /// Renames `staging` to the final place of `name` and fsyncs the folder; returns the absolute
  /// final path. Replaces an existing checkpoint of that name.
  virtual std::string promote(const std::string& staging, const std::string& name) = 0;
  /// The names of what lies beside a staging path that is not valid and starts with its name (e.g.
  /// `<staging>.npz`: numpy appends a suffix), sorted: what a trainer wrote instead, for the message.
  virtual std::vector<std::string> near_misses(const std::string& staging) const = 0;
  /// Removes a checkpoint (file or directory); missing is not an error.
  virtual void remove(const std::string& path) = 0;
};

}  // namespace autolrs::orchestrator
