#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "numerics/bayes_opt.hpp"
#include "numerics/forecaster.hpp"
#include "search/launch_types.hpp"
#include "search/launch_planner.hpp"
#include "search/search_strategy.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The AutoLRS search as a state machine: launches go out through next_launches(), their outcomes
/// come back through record(). No processes, files or clocks; the same spec and the same sequence of
/// calls give the same decisions, so a run can be replayed from its journal.
///
/// Per stage (Jin et al., ICLR 2021): probes_per_stage probes of τ′ steps at LRs proposed by BO over
/// log(LR); each probe's series is forecast to τ steps and told to the GP (failures as penalties);
/// then the LR with the best observed forecast trains the stage for τ steps from the same checkpoint.
/// The spec's preset selects the paper's behaviour or ours (SearchStrategy: decay tails judge the
/// probes instead of forecasts, fixed LR multiples after the first stage, continuing the winner).
class AutoLrsSearch : public LaunchPlanner {
 public:
  explicit AutoLrsSearch(const spec::JobSpec& job);
  ~AutoLrsSearch() override;

  std::vector<LaunchRequest> next_launches(int free_slots) override;
  void record(const LaunchRequest& request, const LaunchOutcome& outcome) override;
  const std::vector<LaunchRequest>& outstanding() const override { return m_outstanding; }
  bool finished() const override;
  const std::optional<std::string>& failure() const override { return m_failure; }
  const SearchRecord& progress() const override { return m_record; }
  std::optional<double> reference_loss() const override { return m_reference_loss; }

 private:
  struct StageSearch;

  void begin_next_stage();
  void choose_stage_lr();
  /// Chooses the stage's LR once every probe (and decay tail) is issued and recorded.
  void choose_stage_lr_when_done();
  /// Index of the stage's succeeded probe with the lowest objective (its end_loss when the strategy
  /// has decay tails, else its forecast), leaving out LRs the stage launch was abandoned at; nullopt when
  /// there is none.
  std::optional<int> winning_probe(const StageRecord& stage) const;
  void record_probe(const LaunchRequest& request, const LaunchOutcome& outcome);
  void record_decay_tail(const LaunchRequest& request, const LaunchOutcome& outcome);
  /// Records the loss at the end of `outcome` (a decay tail, or a last-stage probe) as the probe's
  /// end_loss and tells it to the GP; a non-finite one marks the probe diverged.
  void judge_by_end_loss(ProbeRecord& probe, const LaunchOutcome& outcome);
  /// Whether the stage's probes are followed by decay tails (with a strategy that has them).
  bool needs_decay_tails(const StageRecord& stage) const;
  void record_main(const LaunchRequest& request, const LaunchOutcome& outcome);
  /// After the stage launch `request` failed its LR (diverged, or made no progress): records the LR in the
  /// stage's abandoned_lrs and makes the best probe at another LR the winner; false when there is none.
  bool fall_back_from_lr(const LaunchRequest& request);
  /// Whether the succeeded first-stage launch `request` ended no lower than the stage began, when the
  /// strategy requires progress (SearchStrategy::first_stage_must_progress).
  bool made_no_progress(const LaunchRequest& request, const LaunchOutcome& outcome) const;
  bool use_val_objective(const StageRecord& stage) const;

  spec::JobSpec m_job;
  SearchStrategy m_strategy;
  SearchRecord m_record;
  std::unique_ptr<StageSearch> m_stage;  ///< BO state of the stage being probed
  std::vector<LaunchRequest> m_outstanding;
  std::optional<double> m_reference_loss;
  std::optional<double> m_last_lr;
  struct StartLevel {
    double lr = 0;     ///< of the probe it was measured on
    double level = 0;  ///< mean of that probe's first 20 losses
  };
  std::optional<StartLevel> m_first_stage_start;  ///< the level the first stage starts from
  std::optional<std::string> m_failure;
  bool m_main_launch_due = false;
  int m_main_attempt = 0;
};

}  // namespace autolrs::search
