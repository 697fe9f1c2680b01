#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "spec/job_spec.hpp"

namespace autolrs::session {

/// `autolrs validate`: checks everything `autolrs run` checks before launching, and creates nothing:
/// the job (loaded by the caller), each slot's launcher program, and the run dir (inspect_run_dir,
/// the policy `run` applies). Prints to `out` what it found and the first launch exactly as it will
/// run: workdir, env overrides, log files and a shell-quoted command line to copy. Throws
/// spec::InputError naming the field (exit 2).
void validate_job(const spec::JobSpec& job, std::ostream& out);

/// What is valid in `job` but probably not meant, one sentence each: a probe_fraction so small that
/// stages are too short to probe (τ′ < search::min_forecast_points) and train at a guessed LR.
/// Printed by validate ("warning: ...") and at the start of a run ("autolrs: warning: ...").
std::vector<std::string> job_warnings(const spec::JobSpec& job);

/// `argument` for a POSIX shell: unchanged when it is non-empty and has only characters no shell
/// treats specially (letters, digits, `@%+=:,./_-`), else in single quotes ('\'' for a quote).
std::string shell_quote(const std::string& argument);

}  // namespace autolrs::session
