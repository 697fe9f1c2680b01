#pragma once

// Real child processes for the tests that run the built binary.

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace autolrs::testing {

/// Starts `argv` (argv[0] a path) with stdin from /dev/null and stdout/stderr written to `out` and
/// `err`, truncated first unless `append`. Throws std::runtime_error when it cannot start.
inline pid_t spawn_process(std::vector<std::string> argv_strings, const std::filesystem::path& out,
                           const std::filesystem::path& err, bool append = false) {
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), mode, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), mode, 0644);
  pid_t pid = 0;
  const int failed = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) throw std::runtime_error("cannot start " + argv_strings.front());
  return pid;
}

struct Exit {
  int status = 0;        ///< the exit status, or −signal when the process was killed
  long max_rss_kib = 0;  ///< peak resident memory of the process and the children it reaped
};

/// Waits for child `pid` to end. Throws std::runtime_error when it is not our child.
inline Exit wait_for_exit(pid_t pid) {
  int status = 0;
  rusage usage{};
  pid_t waited;
  do {
    waited = ::wait4(pid, &status, 0, &usage);
  } while (waited < 0 && errno == EINTR);
  if (waited != pid) throw std::runtime_error("wait4 failed");
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), usage.ru_maxrss};
}

}  // namespace autolrs::testing
