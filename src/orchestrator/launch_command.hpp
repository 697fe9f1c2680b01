#pragma once

#include <optional>
#include <string>

#include "orchestrator/launcher.hpp"
#include "search/launch_types.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::orchestrator {

/// Name of the checkpoint a launch writes: its id for a probe ("stage-003-probe-07"), the model step
/// it ends at for warmup and stage launches ("step-000001500").
std::string checkpoint_name(const search::LaunchRequest& request);

/// True when `name` has the shape of a name checkpoint_name() gives ("step-<digits>",
/// "stage-<digits>-probe-<digits>[-r<digits>][-decay][-retry-<digits>]"): the checkpoints folder's entries that a
/// store may clean up; anything else there is not ours and is never touched.
bool is_checkpoint_name(const std::string& name);

/// The process one launch runs, exactly: the trainer's argv template, plus trainer.resume_args when
/// the launch starts from `load_path`, after slot `slot`'s launcher, with every placeholder expanded
/// (`save_path` for {save_checkpoint}); the trainer's env with the slot's env over it, and
/// run_dir_env_var and launch_env_var set to the run dir and the launch id; logs at
/// `<run_dir>/logs/<launch id>.stdout.log` and `.stderr.log`; the trainer's timeouts. In serve mode,
/// the argv starts the slot's trainer (no resume_args: the placeholders left are the launch-independent
/// ones), launch_env_var is "serve-slot-<slot>", and `serve` holds the launch's JSON command line. Pure. Throws
/// spec::InputError when a template cannot be expanded, std::out_of_range for a slot the job lacks.
LaunchCommand build_launch_command(const spec::JobSpec& job, const search::LaunchRequest& request, int slot,
                                   const std::string& save_path, const std::optional<std::string>& load_path);

}  // namespace autolrs::orchestrator
