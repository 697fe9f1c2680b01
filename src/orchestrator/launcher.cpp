#include "orchestrator/launcher.hpp"

#include <stdexcept>
#include <utility>

namespace autolrs::orchestrator {

const char* to_string(LaunchEnd end) {
  switch (end) {
    case LaunchEnd::exited: return "exited";
    case LaunchEnd::signaled: return "signaled";
    case LaunchEnd::timed_out: return "timed_out";
    case LaunchEnd::idle_timed_out: return "idle_timed_out";
    case LaunchEnd::stopped_by_observer: return "stopped_by_observer";
    case LaunchEnd::interrupted: return "interrupted";
    case LaunchEnd::failed_to_start: return "failed_to_start";
    case LaunchEnd::launcher_error: return "launcher_error";
    case LaunchEnd::server_failed: return "server_failed";
  }
  return "unknown";
}

LaunchResult run_to_end(Launcher& launcher, const LaunchCommand& command, LineObserver observer) {
  if (launcher.running() != 0) throw std::logic_error("run_to_end: the launcher runs other launches");
  launcher.start(command, std::move(observer));
  return launcher.wait().result;
}

}  // namespace autolrs::orchestrator
