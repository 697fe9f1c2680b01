#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

extern char** environ;

namespace autolrs::testing {

/// Starts the built `autolrs <args>` (AUTOLRS_BINARY, defined for every test folder) with stdin from
/// /dev/null and stdout and stderr going to the files `out` and `err`. Throws when it cannot start.
inline pid_t spawn_autolrs(const std::vector<std::string>& args, const std::filesystem::path& out,
                           const std::filesystem::path& err) {
  std::vector<std::string> argv_strings{AUTOLRS_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int failed = posix_spawn(&pid, AUTOLRS_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) throw std::runtime_error("cannot start " AUTOLRS_BINARY);
  return pid;
}

/// The exit status of `pid`, or −signal when it was killed.
inline int wait_for(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) throw std::runtime_error("waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

struct Finished {
  int status = 0;
  std::string out;
  std::string err;
};

/// Runs `autolrs <args>` to completion; its output passes through files in `scratch_dir`.
inline Finished run_autolrs(const std::filesystem::path& scratch_dir, const std::vector<std::string>& args) {
  static int run = 0;
  const std::filesystem::path out = scratch_dir / ("autolrs-out-" + std::to_string(run) + ".txt");
  const std::filesystem::path err = scratch_dir / ("autolrs-err-" + std::to_string(run++) + ".txt");
  const int status = wait_for(spawn_autolrs(args, out, err));
  Finished finished{status, read_text(out), read_text(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return finished;
}

}  // namespace autolrs::testing
