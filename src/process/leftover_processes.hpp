#pragma once

#include <string>
#include <vector>

namespace autolrs::process {

/// Sends SIGKILL to every process whose environment, as it was when the process was started
/// (/proc/<pid>/environ), holds every one of `entries` ("NAME=value"), and waits up to `wait_s`
/// seconds for them to be gone (zombies count as gone; those that are our children, e.g. orphans
/// adopted by us as subreaper, are reaped). This process and its ancestors are spared: a shell that
/// started autolrs with the same entry in its environment is not ours to end. Returns how many were
/// killed. Processes whose environment cannot be read (another user's, or gone meanwhile) are
/// skipped; a process that rewrote or cleared its environment is not found. `entries` must not be empty.
int kill_processes_with_env(const std::vector<std::string>& entries, double wait_s = 5);

/// kill_processes_with_env({name + "=" + value}, wait_s).
int kill_processes_with_env(const std::string& name, const std::string& value, double wait_s = 5);

}  // namespace autolrs::process
