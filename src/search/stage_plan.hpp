#pragma once

#include "spec/job_spec.hpp"

namespace autolrs::search {

/// Length τ of stage `stage_index` (0-based): first_stage_steps doubling each stage up to
/// max_stage_steps, cut to `remaining_steps` (the model steps left in the run). 0 when nothing remains.
long stage_steps(const spec::SearchSpec& search, int stage_index, long remaining_steps);

/// Number of stages a run of `stage_budget` model steps (after warmup) is cut into.
int planned_stage_count(const spec::SearchSpec& search, long stage_budget);

/// Probe length τ′ = round(τ · probe_fraction), at least 1.
long probe_steps(const spec::SearchSpec& search, long stage_length);

/// Fewest loss points a probe must yield for its series to be forecast.
inline constexpr int min_forecast_points = 3;

/// Steps the whole AutoLRS run trains, probes included, when nothing fails: the warmup, then per stage
/// τ plus its probes' τ′ and decay tails, less the winner's τ′ when the stage continues from it (no
/// probes for a stage whose τ′ < min_forecast_points). For ETAs.
long planned_compute_steps(const spec::JobSpec& job);

}  // namespace autolrs::search
