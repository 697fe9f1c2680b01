#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "search/fixed_schedule.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The main launches of a run's schedule.csv (orchestrator::schedule_csv), to train again: its
/// warmup (steps 0: none) and its stage launches, on the post-warmup step axis, in order and
/// contiguous from step 0.
struct ReplayedSchedule {
  spec::WarmupSpec warmup;
  std::vector<ScheduleSegment> segments;  ///< ≥ 1; lr > 0, lr_end ≥ 0 when set

  /// The steps the file covers: the warmup's and the segments'.
  long total_steps() const;
};

/// Parses a schedule.csv: the header `stage,start_step,steps,lr,lr_end`, then an optional first row
/// `warmup,0,S,lr,lr`, then one row `k,start,steps,lr,lr_end` per stage, each starting where the
/// previous row ended (a row whose lr_end equals its lr is constant, otherwise a ramp). Strict:
/// throws spec::InputError("<file_name>:<line>", ...) for a bad header, a row without 5 fields, a
/// field that is not a number (integers for steps), steps < 1, lr ≤ 0 or lr_end < 0 or not finite,
/// a gap or overlap, a warmup row not first or ramping, and spec::InputError(file_name, ...) for a
/// file without stage rows.
ReplayedSchedule parse_schedule_csv(std::string_view text, const std::string& file_name);

/// `schedule` stretched or shrunk to `total_steps` (≥ 1): every row boundary b (warmup included) moves
/// to round(b·total_steps/F), F = schedule.total_steps(); LRs are kept, a ramp runs over its row's new
/// steps. The schedule itself when F = total_steps. Throws spec::InputError("total_steps", ...) when
/// a row would be left without steps.
ReplayedSchedule scaled_to(const ReplayedSchedule& schedule, long total_steps);

/// `segments` for a trainer that takes no LR ramps: each ramp becomes a constant launch at its per-step
/// mean lr + (lr_end − lr)·(n − 1)/(2n) over its n steps (step k at lr + (lr_end − lr)·k/n), so the
/// total LR Σ_t lr_t is kept, as schedule_segments keeps it; constant segments are left as they are.
std::vector<ScheduleSegment> constant_pieces(std::vector<ScheduleSegment> segments);

}  // namespace autolrs::search
