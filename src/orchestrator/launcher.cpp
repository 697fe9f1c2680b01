#include "orchestrator/launcher.hpp"

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
  }
  return "unknown";
}

}  // namespace autolrs::orchestrator
