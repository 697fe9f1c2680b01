#pragma once

#include <atomic>
#include <string>

#include "cli/job_loading.hpp"
#include "search/launch_planner.hpp"

namespace autolrs::cli {

/// Runs the launches `planner` asks for (fresh, in its initial state) with the standard edges: the
/// process launcher, the JSON-lines journal, the filesystem checkpoint store, summary.json /
/// schedule.csv / losses.csv and the console. Prepares the run directory first (see
/// prepare_run_dir). SIGINT, SIGTERM and SIGUSR1 stop the run cleanly; it then prints
/// `autolrs: interrupted; continue with: <command> [--dry-run] --run-dir <run dir> --resume`, where
/// `command` is the subcommand with its own options (e.g. "autolrs run job.json"). Returns the exit
/// status: 0 completed, 1 failed, 128 + signal interrupted. Throws spec::InputError for an unusable
/// run directory or journal.
struct ConsoleOptions {
  bool quiet = false;               ///< only errors and the one-line result
  std::string log_format = "text";  ///< "text" (a live status line on a terminal) or "json"
};

int run_planned(const LoadedJob& loaded, search::LaunchPlanner& planner, bool resume, const std::string& command,
                const ConsoleOptions& console_options = {});

/// Makes SIGINT, SIGTERM and SIGUSR1 (Slurm's warning before preemption) stop a run cleanly (running
/// launches end, the journal stays consistent) and returns the flag they set, cleared.
std::atomic<int>& install_stop_handlers();

}  // namespace autolrs::cli
