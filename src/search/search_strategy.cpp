#include "search/search_strategy.hpp"

namespace autolrs::search {

SearchStrategy strategy_for(const spec::SearchSpec& search) {
  SearchStrategy strategy;
  if (search.preset == "paper") return strategy;
  strategy.continue_from_winner = true;
  if (search.preset == "fast") strategy.lr_window_factor = 30;
  return strategy;
}

}  // namespace autolrs::search
