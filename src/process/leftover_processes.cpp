#include "process/leftover_processes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

namespace autolrs::process {
namespace {

namespace fs = std::filesystem;

std::string read_proc_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// True for a kernel thread: it has no executable, and never an environment.
bool is_kernel_thread(pid_t pid) {
  std::error_code error;
  (void)fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", error);
  return error == std::errc::no_such_file_or_directory;
}

/// The file's bytes; nullopt when it cannot be opened (another user's process, or gone).
std::optional<std::string> read_readable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t count;
  while ((count = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(count));
  ::close(fd);
  return text;
}

/// /proc/<pid>/environ, empty when unreadable. A process caught inside execve, between taking its new
/// memory and writing its environment there, reads as empty for a moment: a live user process whose
/// readable environ is empty is read again a few times (5 ms apart) before it counts as having none.
std::string read_environ(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/environ";
  std::optional<std::string> environ = read_readable(path);
  for (int retry = 0; retry < 4 && environ && environ->empty() && !is_kernel_thread(pid); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    environ = read_readable(path);
  }
  return environ.value_or("");
}

/// True when the NUL-separated `environ` holds exactly `entry`.
bool has_entry(std::string_view environ, std::string_view entry) {
  while (!environ.empty()) {
    const size_t end = environ.find('\0');
    if (environ.substr(0, end) == entry) return true;
    if (end == std::string_view::npos) break;
    environ.remove_prefix(end + 1);
  }
  return false;
}

/// The parent of `pid` from /proc/<pid>/stat ("pid (comm) state ppid ..."); 0 when unknown.
pid_t parent_of(pid_t pid) {
  const std::string stat = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t after_comm = stat.rfind(')');
  if (after_comm == std::string::npos || after_comm + 4 >= stat.size()) return 0;
  return static_cast<pid_t>(std::strtol(stat.c_str() + after_comm + 4, nullptr, 10));
}

/// This process and its ancestors, up to init.
std::set<pid_t> self_and_ancestors() {
  std::set<pid_t> lineage;
  for (pid_t pid = ::getpid(); pid > 0 && lineage.insert(pid).second;) pid = parent_of(pid);
  return lineage;
}

/// True while `pid` exists and is not a zombie; a zombie child of ours is reaped.
bool is_running(pid_t pid) {
  const std::string stat = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t after_comm = stat.rfind(')');
  const bool running = after_comm != std::string::npos && after_comm + 2 < stat.size() && stat[after_comm + 2] != 'Z' &&
                       stat[after_comm + 2] != 'X';
  if (!running) ::waitpid(pid, nullptr, WNOHANG);  // ECHILD when it is not our child: nothing to do
  return running;
}

}  // namespace

int kill_processes_with_env(const std::vector<std::string>& entries, double wait_s) {
  const std::set<pid_t> spared = self_and_ancestors();
  std::vector<pid_t> killed;
  std::error_code error;
  for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    const std::string file_name = it->path().filename();
    if (file_name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(file_name));
    if (spared.count(pid)) continue;
    const std::string environ = read_environ(pid);
    if (!std::all_of(entries.begin(), entries.end(), [&](const std::string& entry) { return has_entry(environ, entry); })) {
      continue;
    }
    if (::kill(pid, SIGKILL) == 0) killed.push_back(pid);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
  for (pid_t pid : killed) {
    while (is_running(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return static_cast<int>(killed.size());
}

int kill_processes_with_env(const std::string& name, const std::string& value, double wait_s) {
  return kill_processes_with_env(std::vector<std::string>{name + "=" + value}, wait_s);
}

}  // namespace autolrs::process
