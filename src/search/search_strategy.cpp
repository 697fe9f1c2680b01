#include "search/search_strategy.hpp"

#include <algorithm>
#include <cmath>

namespace autolrs::search {

SearchStrategy strategy_for(const spec::SearchSpec& search) {
  SearchStrategy strategy;
  if (search.preset == "paper") {
    strategy.forecast_family = numerics::ForecastFamily::exponential;
    return strategy;
  }
  strategy.continue_from_winner = true;
  if (search.preset == "fast") {
    strategy.lr_window_factor = 30;
    return strategy;
  }
  strategy.decay_factor = 10;
  strategy.decay_tail_fraction = 0.25;
  strategy.later_stage_lr_multiples = {1, 0.3, 0.1};
  strategy.first_stage_must_progress = true;
  return strategy;
}

long decay_tail_steps(const SearchStrategy& strategy, long probe_steps) {
  return std::max(1L, std::lround(strategy.decay_tail_fraction * static_cast<double>(probe_steps)));
}

int planned_probes(const spec::SearchSpec& search, int stage_index) {
  const SearchStrategy strategy = strategy_for(search);
  if (stage_index > 0 && !strategy.later_stage_lr_multiples.empty()) {
    return static_cast<int>(strategy.later_stage_lr_multiples.size());
  }
  return search.probes_per_stage;
}

}  // namespace autolrs::search
