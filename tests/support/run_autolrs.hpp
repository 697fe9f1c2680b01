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

/// How a run of the built autolrs binary ended.
struct BinaryRun {
  int status = 0;  ///< exit status, or −signal when killed
  std::string out;
  std::string err;
};

/// Runs the built `autolrs <args>` to its end, stdin from /dev/null, stdout and stderr captured
/// through files in `scratch` (removed afterwards).
inline BinaryRun run_autolrs(const std::vector<std::string>& args, const std::filesystem::path& scratch) {
  const std::filesystem::path out = scratch / "autolrs.stdout", err = scratch / "autolrs.stderr";
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
  int wait_status = 0;
  if (waitpid(pid, &wait_status, 0) != pid) throw std::runtime_error("waitpid failed");
  BinaryRun run{WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -WTERMSIG(wait_status), read_text(out), read_text(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return run;
}

}  // namespace autolrs::testing
