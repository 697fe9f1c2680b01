#include "search/search_strategy.hpp"

namespace autolrs::search {

SearchStrategy strategy_for(const spec::SearchSpec& search) {
  SearchStrategy strategy;
  if (search.preset == "paper") return strategy;
  strategy.uncertainty_sampling = false;
  strategy.winner = WinnerRule::best_posterior_mean;
  strategy.continue_from_winner = true;
  strategy.lr_window_factor = 30;
  return strategy;
}

}  // namespace autolrs::search
