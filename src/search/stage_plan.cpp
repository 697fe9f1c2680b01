#include "search/stage_plan.hpp"

#include <algorithm>
#include <cmath>

#include "search/peak_decay_search.hpp"
#include "search/search_strategy.hpp"

namespace autolrs::search {

long stage_steps(const spec::SearchSpec& search, int stage_index, long remaining_steps) {
  if (remaining_steps <= 0) return 0;
  long length = search.first_stage_steps;
  for (int i = 0; i < stage_index && length < search.max_stage_steps; ++i) length *= 2;
  return std::min({length, search.max_stage_steps, remaining_steps});
}

int planned_stage_count(const spec::SearchSpec& search, long stage_budget) {
  int count = 0;
  for (long remaining = stage_budget; remaining > 0; ++count) remaining -= stage_steps(search, count, remaining);
  return count;
}

long probe_steps(const spec::SearchSpec& search, long stage_length) {
  return std::max(1L, std::lround(static_cast<double>(stage_length) * search.probe_fraction));
}

namespace {

/// PeakDecaySearch: every step of the run, and each round's chain extensions and decay tails, less the
/// winner's chain (the run's first H steps).
long peak_decay_compute_steps(const spec::JobSpec& job) {
  const PeakDecaySearch search(job);
  const std::vector<long>& horizons = search.horizons();
  long total = job.total_steps;
  for (size_t round = 0; round < horizons.size(); ++round) {
    const long extension = horizons[round] - (round == 0 ? 0 : horizons[round - 1]);
    const long tail = PeakDecaySearch::tail_steps(horizons[round]);
    total += search.round_sizes()[round] * (extension + tail);
  }
  if (!horizons.empty()) total -= horizons.back();
  return total;
}

}  // namespace

long planned_compute_steps(const spec::JobSpec& job) {
  if (job.search.preset == "default") return peak_decay_compute_steps(job);
  const SearchStrategy strategy = strategy_for(job.search);
  long total = job.warmup.steps;
  long remaining = job.total_steps - job.warmup.steps;
  for (int stage = 0; remaining > 0; ++stage) {
    const long length = stage_steps(job.search, stage, remaining);
    const long probe_length = probe_steps(job.search, length);
    total += length;
    if (probe_length >= min_forecast_points) {
      const bool last_stage = length == remaining;  // judged without decay tails
      const long tail = strategy.decay_factor > 0 && !last_stage ? decay_tail_steps(strategy, probe_length) : 0;
      total += planned_probes(job.search, stage) * (probe_length + tail);
      // The winner's steps are the stage's first (see issue_main_launch).
      if (strategy.continue_from_winner && probe_length < length) total -= probe_length;
    }
    remaining -= length;
  }
  return total;
}

}  // namespace autolrs::search
