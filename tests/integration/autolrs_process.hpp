#pragma once

// Runs the built autolrs binary as a real process, for the integration tests.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace autolrs::testing {

/// Starts `autolrs <args>`; stdout and stderr are appended to `out` and `err`.
inline pid_t spawn_autolrs(const std::vector<std::string>& args, const std::filesystem::path& out,
                           const std::filesystem::path& err) {
  std::vector<std::string> argv{AUTOLRS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_process(argv, out, err, true);
}

struct Finished {
  int status = 0;
  std::string out;
  std::string err;
  long max_rss_kib = 0;
};

/// Runs `autolrs <args>` to its end; its output is collected in files under `dir`.
inline Finished run_autolrs(const TempDir& dir, const std::vector<std::string>& args) {
  static int run = 0;
  const std::filesystem::path out = dir / ("autolrs" + std::to_string(run) + ".out");
  const std::filesystem::path err = dir / ("autolrs" + std::to_string(run++) + ".err");
  const Exit exit = wait_for_exit(spawn_autolrs(args, out, err));
  return {exit.status, read_text(out), read_text(err), exit.max_rss_kib};
}

inline nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(read_text(path)); }

/// Writes `spec` as `<dir>/<name>` and returns its path.
inline std::string write_spec(const TempDir& dir, const nlohmann::json& spec, const std::string& name = "job.json") {
  write_text(dir / name, spec.dump(2));
  return (dir / name).string();
}

/// Process ids of the live (not zombie) processes in process group `pgid`, found through /proc.
inline std::vector<pid_t> live_processes_in_group(pid_t pgid) {
  std::vector<pid_t> members;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    const std::string stat = read_text(entry.path() / "stat");
    const std::size_t after_comm = stat.rfind(')');
    if (after_comm == std::string::npos) continue;
    std::istringstream fields(stat.substr(after_comm + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (fields >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z' && state != 'X') {
      members.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return members;
}

/// Waits up to `limit` for group `pgid` to have no live process; returns the ones still alive. The
/// wait only bounds how long a dying process may take to go, it is not the property under test.
inline std::vector<pid_t> survivors_of_group(pid_t pgid, std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<pid_t> alive = live_processes_in_group(pgid);
  while (!alive.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    alive = live_processes_in_group(pgid);
  }
  return alive;
}

/// The process groups recorded by group_recording_launcher(), one per launch.
inline std::vector<pid_t> recorded_groups(const std::filesystem::path& pid_file) {
  std::vector<pid_t> groups;
  std::istringstream lines(read_text(pid_file));
  for (long pid; lines >> pid;) groups.push_back(static_cast<pid_t>(pid));
  return groups;
}

/// A slot launcher (spec "slots": [{"launcher": ...}]) that appends the launch's process group id
/// to `pid_file` and starts a "data-loader worker" (a sleep) in the group before exec'ing the
/// trainer, as real trainers leave workers behind.
inline nlohmann::json group_recording_launcher(const std::filesystem::path& pid_file) {
  return {"/bin/sh", "-c", "echo $$ >> '" + pid_file.string() + "'; sleep 600 & exec \"$0\" \"$@\""};
}

}  // namespace autolrs::testing
