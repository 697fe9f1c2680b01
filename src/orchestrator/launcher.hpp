#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "trainer_output/loss_line_parser.hpp"

namespace autolrs::orchestrator {

using trainer_output::OutputStream;

/// Every launch gets this environment variable set to its run dir: the processes a launch leaves
/// behind (data-loader workers) inherit it, so a later autolrs can find and end them.
inline constexpr const char* run_dir_env_var = "AUTOLRS_RUN_DIR";

/// One trainer process to run.
struct LaunchCommand {
  std::vector<std::string> argv;           ///< argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env;  ///< merged over the inherited environment
  std::string workdir;                     ///< absolute
  std::string stdout_log;                  ///< receives the complete raw stdout (created, truncated)
  std::string stderr_log;                  ///< receives the complete raw stderr
  double timeout_s = 0;       ///< wall-clock limit; 0 = none
  double idle_timeout_s = 0;  ///< limit on time without any output; 0 = none
  double kill_grace_s = 5;    ///< SIGTERM to the process group, then SIGKILL after this long
};

/// How a launch ended.
enum class LaunchEnd {
  exited,               ///< the process exited by itself (see exit_code)
  signaled,             ///< killed by a signal it did not get from us (see signal)
  timed_out,            ///< ran past timeout_s
  idle_timed_out,       ///< printed nothing for idle_timeout_s
  stopped_by_observer,  ///< the line observer asked to stop (divergence, ...)
  interrupted,          ///< autolrs was asked to stop (SIGINT/SIGTERM/SIGUSR1)
  failed_to_start       ///< the program could not be started (see message)
};

const char* to_string(LaunchEnd end);

struct LaunchResult {
  LaunchEnd end = LaunchEnd::failed_to_start;
  int exit_code = -1;  ///< for exited
  int signal = 0;      ///< for signaled
  double wall_s = 0;
  std::string message;  ///< human-readable detail for failures

  bool succeeded() const { return end == LaunchEnd::exited && exit_code == 0; }
};

/// Receives each complete output line, without '\n' or a trailing '\r' (a line longer than the
/// launcher's cap is cut to the cap). Return false to stop the launch.
using LineObserver = std::function<bool(OutputStream stream, std::string_view line)>;

/// Runs trainer processes. Implementations: process::ProcessLauncher (real), test fakes.
class Launcher {
 public:
  virtual ~Launcher() = default;
  /// Runs `command` to its end and returns how it ended. When it returns, no process of the launch
  /// survives. Safe to call concurrently from several threads.
  virtual LaunchResult run(const LaunchCommand& command, const LineObserver& observer) = 0;
};

}  // namespace autolrs::orchestrator
