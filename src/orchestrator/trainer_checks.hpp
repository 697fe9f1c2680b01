#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "orchestrator/run_observer.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::orchestrator {

/// What the trainer checks found in a finished launch: a sign that the trainer breaks the protocol
/// while its launches succeed (or all fail alike), which no search outcome would reveal.
struct TrainerFinding {
  /// The run cannot give a meaningful result: it stops, failed, with `message`. Otherwise a warning,
  /// said once.
  bool stop = false;
  std::string message;
};

/// Judges the last of `reports` (the run's launches in the order they finished) against the earlier
/// ones. Pure: the same reports give the same findings, so a run rebuilt from its journal finds what
/// the live run found. The checks, each conservative (a healthy trainer must never trip them):
/// - {lr} ignored: two probes of a stage (both from the same checkpoint), at LRs 10× or more apart,
///   whose train losses make clear progress (6 standard errors) and are equal point by point within a tenth of it;
/// - {load_checkpoint} ignored: a launch that continues from a checkpoint of this run, at an LR no
///   higher than the one it ended at, whose first losses are back at the run's initial level (the
///   first losses of the launch from the start at the lowest LR), within a fifth of how far that
///   checkpoint's launch had brought the loss down (at least 5% of it);
/// - a val_loss pattern that never matches: the run's first launch with train losses has no val
///   loss (a stop with `search.objective` `val_loss`, else a warning);
/// - failing fast: the first two launches of a stage failed the same way, for a cause that is not
///   the LR's (no train loss printed at all, or a launch that trained but broke the protocol, e.g. no
///   checkpoint): the remaining launches would fail alike.
std::vector<TrainerFinding> check_latest_launch(const spec::JobSpec& job, std::span<const LaunchReport> reports);

/// The message of the first stopping finding over `reports` taken one by one, as the run met them;
/// nullopt when none stops. For a run rebuilt from its journal.
std::optional<std::string> first_stop(const spec::JobSpec& job, std::span<const LaunchReport> reports);

/// `reason` with what is particular to its launch (its id, its checkpoint's name, the last line of a
/// launch that matched no loss line) replaced or cut, so that two launches that failed for the same
/// cause have the same text.
std::string failure_cause(const LaunchReport& report);

}  // namespace autolrs::orchestrator
