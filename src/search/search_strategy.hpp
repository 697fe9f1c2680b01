#pragma once

#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The search's behaviour, fixed by the spec's `search.preset`.
struct SearchStrategy {
  /// The stage launch continues from the winning probe's checkpoint for τ - τ′ steps, instead of
  /// training all τ steps again from the stage's start checkpoint.
  bool continue_from_winner = false;
  /// After the first stage, probes search within this factor of the previous stage's LR (the best LR
  /// moves smoothly between stages); 0 = always the spec's whole [lr_min, lr_max].
  double lr_window_factor = 0;
};

/// "paper": Jin et al. (ICLR 2021) as published: uncertainty sampling, the best observed forecast
/// wins, the stage is trained again from its start checkpoint.
/// "default": the paper's search, but the stage continues from the winning probe's checkpoint: the
/// same schedule and, for a deterministic trainer, the same model, for τ′ fewer steps per stage.
/// "fast": 4 probes a stage (unless probes_per_stage says otherwise) within 30× of the last stage's
/// LR, and the continuation: about a third of the paper's probe steps (see README's benchmark).
SearchStrategy strategy_for(const spec::SearchSpec& search);

}  // namespace autolrs::search
