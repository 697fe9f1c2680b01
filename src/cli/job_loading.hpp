#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "spec/job_spec.hpp"
#include "storage/run_dir_lock.hpp"

namespace autolrs::cli {

/// A job ready to run, with what identifies it across resumes.
struct LoadedJob {
  spec::JobSpec job;
  nlohmann::json identity;  ///< the spec as written plus the mode (dry-run or not)
};

/// Reads and validates the spec file; applies a --run-dir override (relative to the current folder);
/// with `dry_run`, replaces the trainer by this binary's `simulate` subcommand (options from the
/// spec's "simulator" object). Checks that the trainer program resolves. Throws spec::InputError.
LoadedJob load_job(const std::string& spec_path, const std::string& run_dir_override, bool dry_run);

/// The absolute path of the trainer's program (trainer.command[0]) as the launch will find it: a
/// path is taken relative to trainer.workdir, a bare name is looked up in the trainer's PATH.
/// Throws spec::InputError on trainer.command[0] when no executable file is found: a typo would
/// otherwise fail every probe.
std::string resolve_trainer_program(const spec::TrainerSpec& trainer);

/// The simulator's command for a dry run, as a trainer spec (argv, resume args and loss patterns).
spec::TrainerSpec simulator_trainer(const std::string& autolrs_binary, const spec::JobSpec& job);

/// Creates the run directory and its logs/ and checkpoints/ folders and locks it for this process
/// (held while the returned lock lives). A run dir another autolrs holds is refused, as is one whose
/// journal holds a record without `resume` (and one without with it). Throws spec::InputError.
[[nodiscard]] storage::RunDirLock prepare_run_dir(const spec::JobSpec& job, bool resume);

/// Absolute path of the running autolrs binary.
std::string self_executable();

}  // namespace autolrs::cli
