#pragma once

#include <memory>
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

/// The console observer for `mode`, writing to `out`; `clock` and `planned_compute_steps` serve the
/// live mode's throttling and ETA.
std::unique_ptr<orchestrator::RunObserver> make_console_reporter(ConsoleMode mode, std::ostream& out,
                                                                 const orchestrator::Clock& clock,
                                                                 long planned_compute_steps);

}  // namespace autolrs::console
