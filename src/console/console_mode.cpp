#include "console/console_mode.hpp"

#include "console/console_reporter.hpp"
#include "console/json_events.hpp"
#include "console/live_status.hpp"

namespace autolrs::console {

ConsoleMode choose_console_mode(bool quiet, const std::string& log_format, bool is_terminal) {
  if (quiet) return ConsoleMode::quiet;
  if (log_format == "json") return ConsoleMode::json;
  return is_terminal ? ConsoleMode::live : ConsoleMode::plain;
}

std::unique_ptr<orchestrator::RunObserver> make_console_reporter(ConsoleMode mode, std::ostream& out,
                                                                 const orchestrator::Clock& clock,
                                                                 long planned_compute_steps) {
  switch (mode) {
    case ConsoleMode::live: return std::make_unique<LiveStatusReporter>(out, clock, planned_compute_steps);
    case ConsoleMode::plain: return std::make_unique<ConsoleReporter>(out);
    case ConsoleMode::json: return std::make_unique<JsonEventReporter>(out);
    case ConsoleMode::quiet: return std::make_unique<QuietReporter>(out);
  }
  return std::make_unique<ConsoleReporter>(out);
}

}  // namespace autolrs::console
