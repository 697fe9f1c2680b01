#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "orchestrator/clock.hpp"
#include "orchestrator/run_observer.hpp"

namespace autolrs::console {

/// How a run talks to the person or program watching it.
enum class ConsoleMode {
  live,   ///< a terminal: a status line redrawn in place, launch lines above it
  plain,  ///< not a terminal: one line per finished launch, then the final table
  json,   ///< one JSON object per event (`--log-format json`)
  quiet   ///< only the one-line result (`--quiet`); errors still go to stderr
};

/// `--quiet` wins, then `--log-format json` ("text" or "json"), then live on a terminal, plain otherwise.
ConsoleMode choose_console_mode(bool quiet, const std::string& log_format, bool is_terminal);

/// The width of the terminal a live status line is drawn on: `tty_columns` (the terminal's own, when
/// stdout is one and says), else the `COLUMNS` environment variable (`columns_env`, may be null) when
/// it is a whole number ≥ 2, else 80.
int terminal_columns(std::optional<int> tty_columns, const char* columns_env);

/// terminal_columns of stdout (TIOCGWINSZ) and the process's COLUMNS.
int stdout_columns();

/// The console observer for `mode`, writing to `out`; `clock`, `planned_compute_steps` and `columns`
/// serve the live mode's throttling, ETA and width.
std::unique_ptr<orchestrator::RunObserver> make_console_reporter(ConsoleMode mode, std::ostream& out,
                                                                 const orchestrator::Clock& clock,
                                                                 long planned_compute_steps, int columns);

}  // namespace autolrs::console
