#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/launch_types.hpp"

namespace autolrs::search {

/// Decides which trainer launches a run makes, from the outcomes of earlier ones. Pure: no processes,
/// files or clocks, so the same calls give the same decisions and a run replays from its journal.
/// Implementations: AutoLrsSearch (the AutoLRS search), FixedSchedule (baselines).
class LaunchPlanner {
 public:
  virtual ~LaunchPlanner() = default;

  /// Launches that may start now, at most `free_slots` (≥ 1), in a deterministic order. Empty while
  /// the next decision waits on outstanding launches, and once finished() or failure().
  virtual std::vector<LaunchRequest> next_launches(int free_slots) = 0;
  /// Takes the outcome of a launch returned by next_launches() and not yet recorded.
  /// Throws std::logic_error for a request that is not outstanding.
  virtual void record(const LaunchRequest& request, const LaunchOutcome& outcome) = 0;
  /// The launches handed out and not yet recorded (e.g. to restart after an interruption).
  virtual const std::vector<LaunchRequest>& outstanding() const = 0;

  virtual bool finished() const = 0;
  /// Why the run cannot go on (a stage failed past its retries, every probe of a stage failed).
  virtual const std::optional<std::string>& failure() const = 0;
  virtual const SearchRecord& progress() const = 0;
  /// Loss that launches are judged against for early divergence stops: the level the previous main
  /// launch's train losses ended at (final_loss_level), when there is one.
  virtual std::optional<double> reference_loss() const = 0;
};

}  // namespace autolrs::search
