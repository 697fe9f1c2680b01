#include "console/console_mode.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "console/console_reporter.hpp"
#include "console/json_events.hpp"
#include "console/live_status.hpp"

namespace autolrs::console {

ConsoleMode choose_console_mode(bool quiet, const std::string& log_format, bool is_terminal) {
  if (quiet) return ConsoleMode::quiet;
  if (log_format == "json") return ConsoleMode::json;
  return is_terminal ? ConsoleMode::live : ConsoleMode::plain;
}

int terminal_columns(std::optional<int> tty_columns, const char* columns_env) {
  if (tty_columns && *tty_columns >= 2) return *tty_columns;
  if (columns_env) {
    int columns = 0;
    const char* end = columns_env + std::strlen(columns_env);
    const std::from_chars_result result = std::from_chars(columns_env, end, columns);
    if (result.ec == std::errc() && result.ptr == end && columns >= 2) return columns;
  }
  return 80;
}

int stdout_columns() {
  winsize size{};
  std::optional<int> tty_columns;
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) tty_columns = size.ws_col;
  return terminal_columns(tty_columns, std::getenv("COLUMNS"));
}

std::unique_ptr<orchestrator::RunObserver> make_console_reporter(ConsoleMode mode, std::ostream& out,
                                                                 const orchestrator::Clock& clock,
                                                                 long planned_compute_steps, int columns) {
  switch (mode) {
    case ConsoleMode::live: return std::make_unique<LiveStatusReporter>(out, clock, planned_compute_steps, columns);
    case ConsoleMode::plain: return std::make_unique<ConsoleReporter>(out);
    case ConsoleMode::json: return std::make_unique<JsonEventReporter>(out);
    case ConsoleMode::quiet: return std::make_unique<QuietReporter>(out);
  }
  return std::make_unique<ConsoleReporter>(out);
}

}  // namespace autolrs::console
