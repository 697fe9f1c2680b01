#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <string>

#include "orchestrator/launcher.hpp"

namespace autolrs::process {

/// The absolute path of the program `argv0` names, as execvp would find it: `argv0` itself when it
/// contains a '/', otherwise the first match in the PATH of `env` (the inherited PATH when `env`
/// has none). Relative paths, and relative or empty PATH entries, are taken relative to `workdir`
/// (the current directory when empty), where the launch runs. Empty when no executable regular
/// file is found.
std::optional<std::string> resolve_program(const std::string& argv0,
                                           const std::map<std::string, std::string>& env,
                                           const std::string& workdir = "");

/// Runs trainers as real child processes (Boost.Process).
///
/// Each launch runs in its own process group with stdin from /dev/null, the inherited environment
/// with command.env merged over it, and cwd = command.workdir. The child gets
/// PR_SET_PDEATHSIG(SIGKILL): it is killed when the *thread* that called run() exits, so run() must
/// be called from a thread that outlives the launch. stdout and stderr go raw to their log files as
/// they arrive and are split into lines for the observer (at most process::max_line_bytes each).
///
/// A launch ends when the trainer process exits (even if a process it left behind still holds its
/// pipes), on a timeout, when the observer returns false, or when the stop signal is set; then the
/// whole group gets SIGTERM (and SIGCONT, in case it is stopped), `kill_grace_s`, SIGKILL. When
/// run() returns, every process of the group has been reaped.
///
/// Constructing a launcher makes this process a child subreaper (PR_SET_CHILD_SUBREAPER), so that
/// processes a trainer leaves behind become our children and can be reaped: without that, in a
/// container whose init does not reap orphans, killed ones would linger as zombies.
class ProcessLauncher : public orchestrator::Launcher {
 public:
  /// `stop_signal` (may be null, must outlive the launcher) is polled at least every 50 ms; when it
  /// is non-zero, running launches are ended and return LaunchEnd::interrupted, and new ones are not
  /// started. Throws std::system_error when this process cannot become a subreaper.
  explicit ProcessLauncher(const std::atomic<int>* stop_signal = nullptr);

  /// See orchestrator::Launcher::run and the class comment. exit_code and signal are filled whenever
  /// the trainer's exit status is known, whatever the end. An exception thrown by the observer, or a
  /// failed write to a log file (std::system_error), propagates after the group has been killed.
  orchestrator::LaunchResult run(const orchestrator::LaunchCommand& command,
                                 const orchestrator::LineObserver& observer) override;

 private:
  const std::atomic<int>* m_stop_signal;
};

}  // namespace autolrs::process
