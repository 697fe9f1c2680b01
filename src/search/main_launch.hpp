#pragma once

#include <optional>
#include <string>

#include "search/launch_types.hpp"

namespace autolrs::search {

/// What the outcome of a main launch (the warmup or a stage) means for the run.
enum class MainLaunchVerdict {
  retry,      ///< it failed and may be launched again (request.attempt < max_retries)
  failed,     ///< it failed past its retries: the run fails
  completed   ///< it trained its steps
};

/// The next main launch of `record`, counted in its attempts: the warmup while it is not completed,
/// else the last stage's, at its lr (and lr_end) from its start_step. With `continue_from_winner`, a
/// stage with a winning probe shorter than it continues that probe's checkpoint for the steps left.
LaunchRequest issue_main_launch(SearchRecord& record, int attempt, bool continue_from_winner);

/// Records the outcome of the main launch `request` in `record`, the same way for every planner.
/// Retry: the steps it ran count as discarded_steps. Completed: the warmup or stage `request.stage` is marked completed with its last finite train and
/// val losses, its steps are added to model_steps, and `reference_loss` becomes the level its train
/// losses ended at (final_loss_level) when it has finite ones. Failed past retries: `failure` says e.g. "stage 3 failed after 3
/// attempt(s): <reason>". `record` must hold the warmup or that stage.
MainLaunchVerdict record_main_launch(SearchRecord& record, const LaunchRequest& request, const LaunchOutcome& outcome,
                                     int max_retries, std::optional<double>& reference_loss,
                                     std::optional<std::string>& failure);

}  // namespace autolrs::search
