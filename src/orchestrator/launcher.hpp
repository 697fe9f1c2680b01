#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trainer_output/loss_line_parser.hpp"

namespace autolrs::orchestrator {

using trainer_output::OutputStream;

/// Every launch gets this environment variable set to its run dir: the processes a launch leaves
/// behind (data-loader workers) inherit it, so a later autolrs can find and end them.
inline constexpr const char* run_dir_env_var = "AUTOLRS_RUN_DIR";
/// Every launch also gets this one, set to its launch id ("stage-000-probe-01"): with the run dir,
/// it marks the processes of one launch, which end with it even when they left its process group.
inline constexpr const char* launch_env_var = "AUTOLRS_LAUNCH";

/// A launch in serve mode (trainer.mode "serve"): a command for the slot's long-lived trainer.
struct ServeRequest {
  std::string line;  ///< written to the trainer's stdin (trainer_output::serve_command_line)
  std::string id;    ///< the launch ends when the trainer prints the completion for this id
};

/// One trainer launch to run.
struct LaunchCommand {
  std::vector<std::string> argv;           ///< argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env;  ///< merged over the inherited environment
  std::string workdir;                     ///< absolute
  std::string stdout_log;                  ///< receives the raw stdout (created, truncated), up to log_limit_bytes
  std::string stderr_log;                  ///< receives the raw stderr, up to log_limit_bytes
  /// Most bytes a log file keeps of its stream: all of a stream within it, else its first and last
  /// halves with a line between them that says how many bytes were left out.
  std::size_t log_limit_bytes = std::size_t{16} << 20;
  double timeout_s = 0;       ///< wall-clock limit; 0 = none
  double idle_timeout_s = 0;  ///< limit on time without any output; 0 = none
  double kill_grace_s = 5;    ///< SIGTERM to the process group, then SIGKILL after this long
  /// The job slot the launch runs on. A launcher with a process per launch has no use for it; one
  /// that keeps a trainer process per slot and sends it one command per launch routes by it.
  int slot = 0;
  /// Serve mode: argv, env and workdir start the slot's trainer, which is kept between launches while
  /// they do not change, and the launch is this command to it. nullopt: exec mode, a process per launch.
  std::optional<ServeRequest> serve;
};

/// How a launch ended.
enum class LaunchEnd {
  exited,               ///< the process exited by itself (see exit_code)
  signaled,             ///< killed by a signal it did not get from us (see signal)
  timed_out,            ///< ran past timeout_s
  idle_timed_out,       ///< printed nothing for idle_timeout_s
  stopped_by_observer,  ///< the line observer asked to stop (divergence, ...)
  interrupted,          ///< autolrs was asked to stop (SIGINT/SIGTERM/SIGUSR1), or interrupt() was called
  failed_to_start,      ///< the program could not be started (see message)
  launcher_error,       ///< autolrs could not follow the launch (writing its log failed, its observer threw: see message); it was killed
  server_failed         ///< serve mode: the trainer broke off its command (exited 0, closed its stdin, a wrong or malformed completion: see message); it was killed
};

const char* to_string(LaunchEnd end);

struct LaunchResult {
  LaunchEnd end = LaunchEnd::failed_to_start;
  int exit_code = -1;  ///< for exited
  int signal = 0;      ///< for signaled
  double wall_s = 0;
  std::string message;  ///< the launcher's description of the end, e.g. "killed by signal 9 (SIGKILL)"
  /// Empty, or why the end was not clean although the launch is over, e.g. "processes of its group
  /// (1234) were still present 5 s after SIGKILL" (a process stuck in the kernel); also in `message`.
  std::string survivors;

  bool succeeded() const { return end == LaunchEnd::exited && exit_code == 0; }
};

/// Receives each complete output line, without '\n' or a trailing '\r' (a line longer than the
/// launcher's cap is cut to the cap). Return false to stop the launch.
using LineObserver = std::function<bool(OutputStream stream, std::string_view line)>;

/// Identifies a started launch until wait() has returned it.
using LaunchId = std::uint64_t;

/// A launch that ended, as wait() returns it.
struct LaunchCompletion {
  LaunchId id = 0;
  LaunchResult result;
};

/// Runs trainer launches, several at a time, for a caller on one thread: start() returns at once and
/// wait() returns the next launch to end (the shape of ninja's CommandRunner, StartCommand and
/// WaitForCommand), so the caller needs no thread per launch and no lock. Implementations:
/// process::ProcessLauncher (a process group per launch), test fakes; a launcher that keeps one
/// trainer process per slot and hands it a command per launch fits the same calls.
/// Not thread-safe: one thread starts, waits and interrupts.
class Launcher {
 public:
  virtual ~Launcher() = default;
  /// Starts `command` and returns at once. `observer` receives the launch's output lines from within
  /// wait(), on the caller's thread; when it returns false, the launch is ended
  /// (LaunchEnd::stopped_by_observer) and it is not called again. A launch that cannot start still
  /// completes through wait() (failed_to_start, or interrupted while autolrs is stopping).
  virtual LaunchId start(const LaunchCommand& command, LineObserver observer) = 0;
  /// Blocks until a started launch has ended, delivering the running launches' lines meanwhile, and
  /// returns it; each launch is returned once. When it returns, no process of that launch survives.
  /// Throws std::logic_error when no launch is running.
  virtual LaunchCompletion wait() = 0;
  /// Launches started and not yet returned by wait().
  virtual std::size_t running() const = 0;
  /// Ends every running launch as interrupted, as SIGTERM to autolrs would, and every later one
  /// before it starts; their completions come through wait(). For autolrs's own failures.
  virtual void interrupt() = 0;
};

/// Runs one launch to its end on `launcher`, which runs nothing else: start(), then wait().
LaunchResult run_to_end(Launcher& launcher, const LaunchCommand& command, LineObserver observer);

}  // namespace autolrs::orchestrator
