#include "process/leftover_processes.hpp"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace autolrs::process {
namespace {

/// Starts `sleep 600` with only `env_entry` (and PATH) in its environment.
pid_t spawn_sleep_with_env(const std::string& env_entry) {
  std::string program = "/bin/sleep", duration = "600", entry = env_entry, path = "PATH=/usr/bin:/bin";
  std::vector<char*> argv{program.data(), duration.data(), nullptr};
  std::vector<char*> envp{entry.data(), path.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);
  return pid;
}

/// Starts `sleep 600` with only `env_entries` (and PATH) in its environment.
pid_t spawn_sleep_with_env(const std::vector<std::string>& env_entries) {
  std::string program = "/bin/sleep", duration = "600", path = "PATH=/usr/bin:/bin";
  std::vector<std::string> entries = env_entries;
  std::vector<char*> argv{program.data(), duration.data(), nullptr};
  std::vector<char*> envp;
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(path.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), envp.data()) == 0);
  return pid;
}

/// The signal that ended `pid`, or 0 when it exited.
int wait_for_signal(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/// True when `pid` is gone and reaped: no process, not even a zombie, has that id.
bool gone_and_reaped(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

TEST_CASE("process::kill_processes_with_env kills exactly the processes with that environment entry, and reaps its children") {
  const std::string run_dir = "/runs/leftover-test-" + std::to_string(getpid());
  const pid_t leftover = spawn_sleep_with_env("AUTOLRS_TEST_RUN=" + run_dir);
  const pid_t other_run = spawn_sleep_with_env("AUTOLRS_TEST_RUN=" + run_dir + "-other");
  const pid_t other_name = spawn_sleep_with_env("AUTOLRS_TEST_RUN_X=" + run_dir);

  CHECK(kill_processes_with_env("AUTOLRS_TEST_RUN", run_dir) == 1);
  CHECK(gone_and_reaped(leftover));  // a child of ours: no zombie left behind
  CHECK(kill(other_run, 0) == 0);
  CHECK(kill(other_name, 0) == 0);
  CHECK(kill_processes_with_env("AUTOLRS_TEST_RUN", run_dir) == 0);

  for (pid_t pid : {other_run, other_name}) {
    kill(pid, SIGKILL);
    wait_for_signal(pid);
  }
}

TEST_CASE("process::kill_processes_with_env with several entries kills only processes holding all of them") {
  const std::string run = "AUTOLRS_TEST_RUN=/runs/leftover-" + std::to_string(getpid());
  const pid_t this_launch = spawn_sleep_with_env(std::vector<std::string>{run, "AUTOLRS_TEST_LAUNCH=stage-000-probe-01"});
  const pid_t other_launch = spawn_sleep_with_env(std::vector<std::string>{run, "AUTOLRS_TEST_LAUNCH=stage-000-probe-02"});
  CHECK(kill_processes_with_env({run, "AUTOLRS_TEST_LAUNCH=stage-000-probe-01"}) == 1);
  CHECK(gone_and_reaped(this_launch));
  CHECK(kill(other_launch, 0) == 0);
  kill(other_launch, SIGKILL);
  wait_for_signal(other_launch);
}

}  // namespace
}  // namespace autolrs::process
