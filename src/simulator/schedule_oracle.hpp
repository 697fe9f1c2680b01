#pragma once

#include <vector>

#include "simulator/expected_dynamics.hpp"
#include "simulator/task.hpp"

namespace autolrs::simulator {

/// A piecewise-constant schedule and the expected loss it reaches.
struct OracleSchedule {
  std::vector<ScheduleSegment> segments;
  double expected_loss = 0;  ///< E[L] after the whole schedule, from the task's initial state
  int sweeps = 0;            ///< coordinate-descent sweeps made
};

/// The "oracle" schedule: `segment_count` (≥ 1, at most `steps`) constant-LR segments covering
/// `steps` (≥ 1) steps, segment k over [⌊k·N/K⌋, ⌊(k+1)·N/K⌋), with LRs in [lr_min, lr_max] chosen
/// to minimize the exact expected loss after the last step (expected_dynamics), none above the
/// stability limit 2(1+β)/h_max (stability_limit_lr). The cap matters: the model's dynamics are
/// linear, so a direction blown up by 10^100 at an unstable LR contracts back by 0.9 per step
/// later; an unconstrained optimizer exploits that, while a real trainer's loss would explode
/// (and the orchestrator stops such launches as diverged). Cyclic coordinate
/// descent on log LR: start from the best constant LR everywhere, then sweep the segments in order,
/// minimizing over each one's LR with the others fixed (minimize_over_log_lr, 4 points per decade),
/// until a sweep improves the loss by less than 1e-6 relative, or after 30 sweeps. A local optimum:
/// a bound, not a proof of optimality. Per candidate LR the cost is O(d·log steps): the moments
/// before the segment and the map after it are cached per dimension. Throws std::invalid_argument
/// for arguments out of range, or lr_min at or above the stability limit.
OracleSchedule optimize_schedule(const Task& task, long steps, int segment_count, double lr_min, double lr_max);

}  // namespace autolrs::simulator
