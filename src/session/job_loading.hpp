#pragma once

#include <string>

#include "search/schedule_file.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::session {

/// Reads and validates the spec file; applies a --run-dir override (relative to the current folder);
/// with `dry_run`, replaces the trainer by this binary's `simulate` subcommand (options from the
/// spec's "simulator" object). Checks that the trainer program resolves. Throws spec::InputError.
spec::JobSpec load_job(const std::string& spec_path, const std::string& run_dir_override, bool dry_run);

/// A run's schedule.csv, read and parsed (search::parse_schedule_csv). Throws spec::InputError.
search::ReplayedSchedule load_schedule_file(const std::string& path);

/// The absolute path of the trainer's program (trainer.command[0]) as the launch will find it: a
/// path is taken relative to trainer.workdir, a bare name is looked up in the trainer's PATH.
/// Throws spec::InputError on trainer.command[0] when no executable file is found: a typo would
/// otherwise fail every probe.
std::string resolve_trainer_program(const spec::TrainerSpec& trainer);

/// The simulator's command for a dry run, as a trainer spec (argv, resume args and loss patterns).
spec::TrainerSpec simulator_trainer(const std::string& autolrs_binary, const spec::JobSpec& job);

/// Absolute path of the running autolrs binary.
std::string self_executable();

}  // namespace autolrs::session
