#include "storage/run_dir_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace autolrs::storage {

namespace {

std::string lock_path(const std::string& run_dir) { return run_dir + "/" + RunDirLock::file_name; }

}  // namespace

std::optional<RunDirLock> RunDirLock::try_acquire(const std::string& run_dir) {
  const std::string path = lock_path(run_dir);
  const int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (descriptor < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(descriptor);
    if (error == EWOULDBLOCK) return std::nullopt;
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(error));
  }
  // The pid is only for the message another autolrs prints; the lock itself is the flock.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(descriptor, 0) != 0 || ::pwrite(descriptor, pid.data(), pid.size(), 0) < 0) {
    const int error = errno;
    ::close(descriptor);
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(error));
  }
  return RunDirLock(descriptor);
}

std::optional<long> RunDirLock::holder_pid(const std::string& run_dir) {
  std::ifstream in(lock_path(run_dir));
  long pid = 0;
  if (in >> pid && pid > 0) return pid;
  return std::nullopt;
}

bool RunDirLock::is_held(const std::string& run_dir) {
  const int descriptor = ::open(lock_path(run_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) return false;  // no lock file: nobody ever held it
  const bool held = ::flock(descriptor, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(descriptor);  // drops the shared lock, if taken
  return held;
}

RunDirLock::RunDirLock(RunDirLock&& other) noexcept : m_descriptor(other.m_descriptor) { other.m_descriptor = -1; }

RunDirLock::~RunDirLock() {
  if (m_descriptor >= 0) ::close(m_descriptor);
}

}  // namespace autolrs::storage
