#pragma once

#include <string>

#include "storage/run_dir_lock.hpp"

namespace autolrs::session {

/// What a run directory holds, for starting or resuming a run there.
enum class RunDirState {
  absent,     ///< does not exist yet and can be created
  no_run,     ///< exists and is writable; its journal holds no complete record (none, empty or torn)
  holds_run   ///< its journal holds a run
};

/// What inspect_run_dir found.
struct RunDirInspection {
  RunDirState state = RunDirState::absent;
  std::string created_in;  ///< for absent: the nearest existing folder, where it will be created
};

/// The one run-directory policy, shared by `run` (and every command that runs) and `validate`: looks
/// at `run_dir` without creating or changing anything. Throws spec::InputError("run_dir", ...) when
/// no run can start or resume there: not a directory, not writable, cannot be created (its nearest
/// existing folder is no writable directory), in use by another autolrs (its lock is held); and
/// spec::InputError naming the journal's line when its journal is corrupt.
RunDirInspection inspect_run_dir(const std::string& run_dir);

/// Throws what `autolrs run` says when a run dir in `state` does not fit `resume`:
/// spec::InputError("--resume", "no run to resume in <run_dir>") without a run, and
/// spec::InputError("run_dir", "<run_dir> already holds a run; continue it with --resume, ...") for a
/// new run where one is recorded.
void check_run_dir_use(RunDirState state, const std::string& run_dir, bool resume);

/// What `autolrs run` will do with the run dir, in words (validate's report): "will be created (in
/// <folder>)", "exists, writable", or "holds a run: `autolrs run` needs --resume or another run_dir".
std::string describe(const RunDirInspection& inspection);

/// Prepares `run_dir` for a run and locks it for this process (held while the returned lock lives):
/// refuses what inspect_run_dir and check_run_dir_use refuse, before creating anything, then creates
/// the run dir with its logs/ and checkpoints/ folders, takes the lock and checks the journal again
/// under it (two autolrs started at once cannot both begin a run). Throws spec::InputError.
[[nodiscard]] storage::RunDirLock prepare_run_dir(const std::string& run_dir, bool resume);

}  // namespace autolrs::session
