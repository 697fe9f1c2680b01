#pragma once

#include "spec/job_spec.hpp"

namespace autolrs::search {

/// How the stage winner is chosen among the probes.
enum class WinnerRule {
  best_forecast,       ///< the lowest forecast observed (the paper)
  best_posterior_mean  ///< the probe whose GP posterior mean is lowest: forecasts denoised by their neighbours
};

/// The search's behaviour, fixed by the spec's `search.preset`.
struct SearchStrategy {
  bool uncertainty_sampling = true;  ///< LCB with kappa = 1e6 (the paper); else expected improvement
  WinnerRule winner = WinnerRule::best_forecast;
  /// The stage launch continues from the winning probe's checkpoint for τ - τ′ steps, instead of
  /// training all τ steps again from the stage's start checkpoint.
  bool continue_from_winner = false;
  /// After the first stage, probes search within this factor of the previous stage's LR (the best LR
  /// moves smoothly between stages); 0 = always the spec's whole [lr_min, lr_max].
  double lr_window_factor = 0;
};

/// "paper": Jin et al. (ICLR 2021) as published. "default": fewer probe steps for the same result
/// (see README's benchmark): expected improvement, a window around the last LR, the winner by GP
/// posterior mean, and the stage continued from the winning probe.
SearchStrategy strategy_for(const spec::SearchSpec& search);

}  // namespace autolrs::search
