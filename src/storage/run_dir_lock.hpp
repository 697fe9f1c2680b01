#pragma once

#include <optional>
#include <string>

namespace autolrs::storage {

/// Exclusive use of a run dir by one autolrs process: an flock(2) on `<run dir>/autolrs.lock`, which
/// holds the owner's pid. The kernel drops the lock when the process exits, however it exits
/// (SIGKILL included), so a stale lock file never blocks a resume. The descriptor is close-on-exec:
/// trainers and their workers never hold the lock.
class RunDirLock {
 public:
  static constexpr const char* file_name = "autolrs.lock";

  /// Takes the lock, creating the lock file (the run dir must exist); nullopt when another process
  /// holds it. Throws std::runtime_error naming the path when the file cannot be opened or locked.
  static std::optional<RunDirLock> try_acquire(const std::string& run_dir);
  /// The pid recorded by the lock's holder, for messages; nullopt when unreadable.
  static std::optional<long> holder_pid(const std::string& run_dir);
  /// True when a process holds the lock (this one included, through a RunDirLock). Creates nothing:
  /// it tries a shared lock on an existing lock file and drops it at once, so a process taking the
  /// lock at that very moment could find it held.
  static bool is_held(const std::string& run_dir);

  RunDirLock(RunDirLock&& other) noexcept;
  RunDirLock& operator=(RunDirLock&&) = delete;
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  ~RunDirLock();

 private:
  explicit RunDirLock(int descriptor) : m_descriptor(descriptor) {}
  int m_descriptor = -1;
};

}  // namespace autolrs::storage
