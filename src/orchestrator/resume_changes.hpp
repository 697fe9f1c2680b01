#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace autolrs::orchestrator {

/// How a run's identity on --resume differs from the one its journal recorded, as field names the
/// way specs and errors spell them: dotted, the spec's own fields without "spec."
/// ("search.lr_min", "trainer.command[2]", "baseline.lr", "dry_run").
struct ResumeChanges {
  /// Changes to how the trainer is run, which do not change what the search decided or will decide:
  /// trainer.command (while `{lr_end}` stays in it, or out of it), resume_args, workdir, env, the
  /// loss and val_loss patterns (val_loss neither added nor removed), timeout_s, idle_timeout_s and
  /// divergence_factor, and the simulator section (a dry run's trainer). They are what a user fixes
  /// after a failed launch.
  std::vector<std::string> accepted;
  std::vector<std::string> refused;  ///< every other change
};

/// The changes from `recorded` to `current` (identities, see session::identity_json).
ResumeChanges resume_changes(const nlohmann::json& recorded, const nlohmann::json& current);

/// What a failed run's resume hint and a refused resume say --resume accepts.
inline constexpr const char* resume_accepts =
    "--resume accepts changes to how the trainer runs: trainer.command (keeping or leaving out {lr_end}), "
    "resume_args, workdir, env, loss, val_loss, timeout_s, idle_timeout_s, divergence_factor (and simulator, for --dry-run); "
    "not the search or total_steps";

}  // namespace autolrs::orchestrator
