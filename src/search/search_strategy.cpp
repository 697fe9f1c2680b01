#include "search/search_strategy.hpp"

#include <algorithm>
#include <cmath>

#include "search/autolrs_search.hpp"
#include "search/peak_decay_search.hpp"

namespace autolrs::search {

SearchStrategy strategy_for(const spec::SearchSpec& search) {
  SearchStrategy strategy;
  if (search.preset == "paper") {
    strategy.forecast_family = numerics::ForecastFamily::exponential;
    return strategy;
  }
  strategy.continue_from_winner = true;
  strategy.decay_factor = 10;
  strategy.decay_tail_fraction = 0.25;
  strategy.later_stage_lr_multiples = {1, 0.3, 0.1};
  strategy.first_stage_must_progress = true;
  return strategy;
}

long decay_tail_steps(const SearchStrategy& strategy, long probe_steps) {
  return std::max(1L, std::lround(strategy.decay_tail_fraction * static_cast<double>(probe_steps)));
}

std::unique_ptr<LaunchPlanner> make_search(const spec::JobSpec& job) {
  if (job.search.preset == "default") return std::make_unique<PeakDecaySearch>(job);
  return std::make_unique<AutoLrsSearch>(job);
}

int planned_probes(const spec::SearchSpec& search, int stage_index) {
  const SearchStrategy strategy = strategy_for(search);
  if (stage_index > 0 && !strategy.later_stage_lr_multiples.empty()) {
    return static_cast<int>(strategy.later_stage_lr_multiples.size());
  }
  return search.probes_per_stage;
}

}  // namespace autolrs::search
