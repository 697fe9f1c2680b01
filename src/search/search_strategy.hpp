#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "numerics/forecaster.hpp"
#include "search/launch_planner.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The behaviour of AutoLrsSearch, fixed by the spec's `search.preset` ("stagewise" or "paper"; the
/// default preset is PeakDecaySearch, see make_search).
struct SearchStrategy {
  /// The curves probes' loss series are forecast with: the paper's exponential, or ours, which
  /// averages in a power law where the data support one (numerics::forecast_loss).
  numerics::ForecastFamily forecast_family = numerics::ForecastFamily::exponential_or_power_law;
  /// The stage launch continues from the winning probe's checkpoint for τ - τ′ steps, instead of
  /// training all τ steps again from the stage's start checkpoint.
  bool continue_from_winner = false;
  /// > 0: probes are compared by the loss at their end instead of by forecasts, and every probe but
  /// those of the run's last stage (and a stage's only probe) is followed by its decay tail,
  /// decay_tail_fraction·τ′ steps at lr / decay_factor from the probe's checkpoint, whose end is the
  /// probe's. 0: forecasts, no tails.
  double decay_factor = 0;
  double decay_tail_fraction = 0;
  /// After the first stage, the probes try these multiples of the previous stage's LR (clamped to the
  /// spec's bounds, duplicates dropped) instead of BO proposals; empty: BO proposals in every stage.
  std::vector<double> later_stage_lr_multiples;
  /// A first stage whose launch ends no lower than the stage began (its train loss level, see
  /// final_loss_level, against the warmup's level or the first 20 losses of the lowest-LR probe) made no progress at its
  /// LR, and is retried like a diverged one, at the next best probe's LR. The first stage is where a
  /// 20-step probe can favour an LR the model cannot sustain (seen on the PyTorch example: progress
  /// for 40 steps, then stuck at chance); later stages keep or lower an LR that trained a stage.
  bool first_stage_must_progress = false;
};

/// "paper": Jin et al. (ICLR 2021) as published: uncertainty sampling, the best observed forecast
/// wins, the stage is trained again from its start checkpoint.
/// "stagewise" (the default before PeakDecaySearch): the first stage's probes_per_stage probes at BO proposals over [lr_min, lr_max]; every
/// later stage tries the previous stage's LR, a third and a tenth of it. Each probe of τ′ steps is
/// followed by a decay tail of τ′/4 steps at a tenth of its LR, and the lowest loss at the tail's end
/// wins; the stage continues from the winning probe's checkpoint. Comparing probes after a decay
/// removes the noise floor a high LR carries (∝ LR), which otherwise makes a short probe prefer too
/// small an LR (Wu et al., ICLR 2018, "short-horizon bias"). The run's last stage has no later decay,
/// so its probes have no tails and are compared by the loss at their own end. A first stage that
/// makes no progress is retried at the next best probe's LR. See README's benchmark.
SearchStrategy strategy_for(const spec::SearchSpec& search);

/// The search the spec's preset names: PeakDecaySearch for "default", AutoLrsSearch for "stagewise"
/// and "paper".
std::unique_ptr<LaunchPlanner> make_search(const spec::JobSpec& job);

/// Steps of a decay tail after a probe of `probe_steps` steps: round(decay_tail_fraction·τ′), at least 1.
long decay_tail_steps(const SearchStrategy& strategy, long probe_steps);

/// Probes of stage `stage_index` before clamping and duplicates are dropped: probes_per_stage, or one
/// per LR multiple after the first stage.
int planned_probes(const spec::SearchSpec& search, int stage_index);

}  // namespace autolrs::search
