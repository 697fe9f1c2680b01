#include "storage/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace autolrs::storage {
namespace {

std::system_error io_error(int error, const std::string& what) {
  return std::system_error(error, std::generic_category(), what);
}

/// Distinguishes the temporary files of concurrent writes within this process (the pid, those of
/// other processes).
std::atomic<unsigned long> temporary_counter{0};

/// Creates a temporary file beside `path` that no other writer uses; returns its descriptor.
int create_temporary(const std::string& path, std::string& temporary) {
  for (;;) {
    temporary = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temporary_counter++);
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    // A leftover of a crashed process that had our pid: take the next name.
    if (errno != EEXIST) throw io_error(errno, "cannot create " + temporary);
  }
}

void write_all(int fd, std::string_view content, const std::string& name) {
  while (!content.empty()) {
    const ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw io_error(errno, "cannot write " + name);
    content.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error(errno, "cannot open " + path);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) throw io_error(error, "cannot fsync " + path);
}

void write_file_atomically(const std::string& path, std::string_view content) {
  std::string temporary;
  const int fd = create_temporary(path, temporary);
  try {
    try {
      write_all(fd, content, temporary);
      if (::fsync(fd) != 0) throw io_error(errno, "cannot fsync " + temporary);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0) throw io_error(errno, "cannot write " + temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw io_error(errno, "cannot replace " + path);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  fsync_path(folder.empty() ? "." : folder.string());
}

}  // namespace autolrs::storage
