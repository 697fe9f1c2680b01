#include "process/leftover_processes.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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
    const std::string environ = read_proc_file(it->path() / "environ");
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
