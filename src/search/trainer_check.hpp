#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/launch_planner.hpp"
#include "search/launch_types.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The launches of `autolrs validate --launch`: enough to show whether a trainer keeps the protocol
/// before a long run does. Two launches of `steps` steps from the job's start at LRs ten times apart
/// (`lr_high`, then `lr_low`), then one that continues the first's checkpoint at `lr_low` for
/// `steps` more: the run's trainer checks (orchestrator::check_latest_launch) then see whether the
/// trainer uses {lr}, loads {load_checkpoint}, prints what the loss and val_loss patterns match and
/// writes {save_checkpoint}.
struct TrainerCheckPlan {
  double lr_high = 0;
  double lr_low = 0;
  long steps = 0;
};

/// lr_high the geometric mean of the spec's bounds, lr_low a tenth of it (no lower than lr_min), and
/// the first stage's probe length τ′ as steps: launches like the run's first probes.
TrainerCheckPlan default_trainer_check_plan(const spec::JobSpec& job);

/// Runs a TrainerCheckPlan under the orchestrator as stage 0: probes 0 (lr_high) and 1 (lr_low) from
/// the start, then the stage launch continuing probe 0's checkpoint, once probe 0 succeeded.
class TrainerCheck : public LaunchPlanner {
 public:
  explicit TrainerCheck(const TrainerCheckPlan& plan);

  std::vector<LaunchRequest> next_launches(int free_slots) override;
  void record(const LaunchRequest& request, const LaunchOutcome& outcome) override;
  const std::vector<LaunchRequest>& outstanding() const override { return m_outstanding; }
  bool finished() const override;
  /// Set when a launch failed (the first probe's failure leaves nothing to continue).
  const std::optional<std::string>& failure() const override { return m_failure; }
  const SearchRecord& progress() const override { return m_record; }
  std::optional<double> reference_loss() const override { return std::nullopt; }

 private:
  TrainerCheckPlan m_plan;
  int m_issued = 0;  ///< launches handed out: the two probes, then the continuation
  int m_recorded = 0;
  std::vector<LaunchRequest> m_outstanding;
  SearchRecord m_record;
  std::optional<std::string> m_failure;
};

}  // namespace autolrs::search
