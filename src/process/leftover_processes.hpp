#pragma once

#include <string>

namespace autolrs::process {

/// Sends SIGKILL to every process other than this one whose environment, as it was when the
/// process was started (/proc/<pid>/environ), holds the entry `name=value`, and waits up to
/// `wait_s` seconds for them to be gone (zombies count as gone). Returns how many were killed.
/// Processes whose environment cannot be read (another user's, or gone meanwhile) are skipped;
/// a process that rewrote or cleared its environment is not found.
int kill_processes_with_env(const std::string& name, const std::string& value, double wait_s = 5);

}  // namespace autolrs::process
