#include "process/leftover_processes.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
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

/// True while `pid` exists and is not a zombie.
bool is_running(pid_t pid) {
  const std::string stat = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t after_comm = stat.rfind(')');
  return after_comm != std::string::npos && after_comm + 2 < stat.size() && stat[after_comm + 2] != 'Z' &&
         stat[after_comm + 2] != 'X';
}

}  // namespace

int kill_processes_with_env(const std::string& name, const std::string& value, double wait_s) {
  const std::string entry = name + "=" + value;
  std::vector<pid_t> killed;
  std::error_code error;
  for (fs::directory_iterator it("/proc", error), end; !error && it != end; it.increment(error)) {
    const std::string file_name = it->path().filename();
    if (file_name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(file_name));
    if (pid == ::getpid()) continue;
    if (!has_entry(read_proc_file(it->path() / "environ"), entry)) continue;
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

}  // namespace autolrs::process
