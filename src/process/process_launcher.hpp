#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

/// Runs trainers as real child processes (Boost.Process), any number at a time, for one thread: an
/// event loop over the launches' output pipes and pidfds (poll(2)) inside wait().
///
/// Each launch runs in its own process group with stdin from /dev/null, the inherited environment
/// with command.env merged over it, and cwd = command.workdir. The child gets
/// PR_SET_PDEATHSIG(SIGKILL): it is killed when the *thread* that called start() exits, so the
/// launcher must be used from a thread that outlives its launches (autolrs's main thread). stdout
/// and stderr go raw to their log files as they arrive (CappedLog: beyond command.log_limit_bytes,
/// the first and last halves, the last written when the launch ends) and are split into lines for the observer (at
/// most process::max_line_bytes each), at most 1 MiB per stream per turn of the loop, so that one
/// flooding launch cannot hold off the others or the checks.
///
/// A launch ends when the trainer process exits (even if a process it left behind still holds its
/// pipes: then at most 4 MiB more are drained), on a timeout, when the observer returns false, or
/// when the stop signal is set or interrupt() is called; then the whole group gets SIGTERM (and
/// SIGCONT, in case it is stopped), `kill_grace_s`, SIGKILL, while the other launches go on being
/// served. Its completion is returned once every process of the group has been reaped, or 5 s after
/// the SIGKILL (then LaunchResult::survivors says so), and after the processes that left the group
/// (`setsid`) but carry the launch's marks (command.env holding orchestrator::run_dir_env_var and
/// orchestrator::launch_env_var) have been killed too.
///
/// Constructing a launcher makes this process a child subreaper (PR_SET_CHILD_SUBREAPER), so that
/// processes a trainer leaves behind become our children and can be reaped: without that, in a
/// container whose init does not reap orphans, killed ones would linger as zombies.
///
/// Serve mode (command.serve set): the process is the slot's trainer (stdin a socket), started by the
/// slot's first launch and kept while its launches complete: start() writes the command line to
/// its stdin, and the launch ends, as exited with status 0, when the trainer prints the completion
/// for its id (trainer_output::parse_serve_reply; that line is not passed to the observer). The
/// next launch on the slot with the same argv, env and workdir reuses it. A trainer that exits,
/// closes its stdin, or prints a completion that is malformed or names another command is ended as
/// above, its group and all (server_failed, or exited/signaled with its status), and so is one
/// whose launch ends for any other reason (a timeout, a stop, an interrupt): the slot's next launch
/// starts a fresh one. One found dead or with its stdin closed between commands is replaced before
/// the next command is sent. The destructor kills the kept ones too.
///
/// No thread is created, and a launch's descriptors and buffers are released with its completion:
/// memory and descriptors stay flat however many launches run one after another.
class ProcessLauncher : public orchestrator::Launcher {
 public:
  /// `stop_signal` (may be null, must outlive the launcher) is checked at least every 50 ms while
  /// waiting; when it is non-zero, running launches are ended and complete as LaunchEnd::interrupted,
  /// and new ones are not started. Throws std::system_error when this process cannot become a subreaper.
  explicit ProcessLauncher(const std::atomic<int>* stop_signal = nullptr);
  /// SIGKILLs the groups of launches still running and reaps them (waiting up to 5 s for each).
  ~ProcessLauncher() override;
  ProcessLauncher(const ProcessLauncher&) = delete;
  ProcessLauncher& operator=(const ProcessLauncher&) = delete;

  /// See orchestrator::Launcher::start. A command that cannot be started completes at the next
  /// wait() with the reason in its message: as failed_to_start for the trainer's fault (no such
  /// program, no workdir, an exec error), as launcher_error for autolrs's (a log file that cannot
  /// be created, no pipe, a fork or exec that failed for want of memory, processes or descriptors);
  /// nothing is started once the stop signal is set.
  orchestrator::LaunchId start(const orchestrator::LaunchCommand& command, orchestrator::LineObserver observer) override;
  /// See orchestrator::Launcher::wait. exit_code and signal are filled whenever the trainer's exit
  /// status is known, whatever the end. An observer that throws, or a failed write to a log file,
  /// ends that launch at once (its group SIGKILLed) as LaunchEnd::launcher_error, with the error's
  /// text as message; the other launches go on.
  orchestrator::LaunchCompletion wait() override;
  std::size_t running() const override;
  void interrupt() override;

 private:
  struct Launch;

  bool stop_requested() const;
  /// Moves `launch` on: reaps, notices a reason to end it, and steps its ending (SIGTERM, SIGKILL,
  /// gone); queues its completion and returns true once it is over.
  bool advance(Launch& launch);
  /// Waits up to the nearest deadline of any launch (at most 50 ms) for output or a trainer's exit,
  /// and reads what arrived.
  void poll_once();
  void complete(Launch& launch, bool all_gone);
  /// Serve mode: the slot's kept trainer when it can take `command` (running, stdin open, started
  /// with the same argv, env and workdir); otherwise ends any kept one and returns null.
  std::unique_ptr<Launch> take_parked_server(const orchestrator::LaunchCommand& command);
  /// Keeps the process of a launch whose command completed for its slot's next launch.
  void park_server(std::unique_ptr<Launch> server);

  const std::atomic<int>* m_stop_signal;
  bool m_interrupted = false;
  orchestrator::LaunchId m_next_id = 1;
  std::vector<std::unique_ptr<Launch>> m_launches;        ///< started, not yet over, in start order
  std::deque<orchestrator::LaunchCompletion> m_completed;  ///< over, not yet returned by wait()
  std::map<int, std::unique_ptr<Launch>> m_parked_servers;  ///< serve mode: per slot, the trainer between commands
};

}  // namespace autolrs::process
