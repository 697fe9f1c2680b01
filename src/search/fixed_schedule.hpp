#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "search/launch_planner.hpp"
#include "search/launch_types.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The shape of a hand-written learning-rate schedule, as a function of the step t = 0 … N−1 of the
/// N steps after the warmup, with peak LR η:
///   constant  η
///   cosine    η·½(1 + cos(πt/N))            (Loshchilov and Hutter, ICLR 2017; no restarts, decays to 0)
///   step      η for t < ⌊N/2⌋, η/10 for t < ⌊3N/4⌋, η/100 after (the ×0.1 drops of He et al., CVPR 2016)
///   linear    η·(1 − t/N)
///   wsd       warmup-stable-decay without the warmup (the job's own warmup runs first): η for t < S,
///             then η·(1 − sqrt((t − S)/C)) over the cooldown's C = round(f·N) steps, S = N − C
///             (the 1−sqrt cooldown of Hägele et al., NeurIPS 2024; f = cooldown_fraction)
///   quadratic η·(1 − t/N)²                  (polynomial decay of power 2)
///   cubic     η·(1 − t/N)³                  (polynomial decay of power 3; the default search's decay)
enum class ScheduleShape { constant, cosine, step, linear, wsd, quadratic, cubic };

const char* to_string(ScheduleShape shape);
/// The shape called `name` ("constant", "cosine", "step", "linear", "wsd", "quadratic", "cubic"), or nullopt.
std::optional<ScheduleShape> schedule_shape_from_name(std::string_view name);

/// True for the shapes that are piecewise constant already (constant, step): they run as their own
/// pieces, and a segment count does not apply to them. (wsd's stable part is one piece; its count
/// cuts the cooldown.)
bool is_piecewise_constant(ScheduleShape shape);

/// Segments a cosine, linear, quadratic or cubic schedule is cut into when the user gives no count.
inline constexpr int default_schedule_segments = 20;

/// The default cooldown of a wsd schedule: the last 20% of the steps (Hägele et al. 2024 find 10-20%
/// enough to match cosine).
inline constexpr double default_cooldown_fraction = 0.2;

/// A fixed schedule: the shape, its peak LR (> 0), the number of launches K (≥ 1) a cosine or
/// linear schedule, or a wsd cooldown, is cut into, the wsd cooldown fraction f in (0, 1], and
/// whether the trainer takes LR ramps (its command has `{lr_end}`).
struct ScheduleSpec {
  ScheduleShape shape = ScheduleShape::constant;
  double peak_lr = 0;
  int segments = default_schedule_segments;
  double cooldown_fraction = default_cooldown_fraction;
  bool ramps = false;
};

/// One launch of a fixed schedule, on the post-warmup step axis: constant at `lr`, or a linear ramp
/// from `lr` to `lr_end` (step k of the launch's n at lr + (lr_end − lr)·k/n; lr_end is the LR of the
/// step after it).
struct ScheduleSegment {
  long start_step = 0;  ///< 0-based step after the warmup where the segment starts
  long steps = 0;       ///< ≥ 1
  double lr = 0;
  std::optional<double> lr_end = std::nullopt;  ///< set for a ramp
  bool operator==(const ScheduleSegment&) const = default;
};

/// The launches of `schedule` over `steps` (≥ 1) post-warmup steps, in order, covering them exactly.
/// constant: one segment; step: its three pieces (empty ones dropped, so fewer when steps < 4);
/// cosine, linear, quadratic and cubic: min(K, steps) segments, segment k covering [⌊k·N/K⌋, ⌊(k+1)·N/K⌋); wsd: the
/// stable part as one segment, then the cooldown's C steps cut the same way into min(K, C) segments.
/// With ramps, a cut segment [a, b) ramps from lr_a to lr_b, the shape's per-step LRs at its ends: the
/// launches follow the curve's chords. Without, it runs at the mean of the per-step LR over its steps,
/// so the launches add up to the same total LR Σ_t lr_t as the per-step schedule (first-order progress
/// is preserved):
///   linear  η·(1 − (a + b − 1)/(2N))                                   for steps a … b−1
///   cosine  η/2·(1 + sin(π(b−a)/(2N))·cos(π(a+b−1)/(2N)) / ((b−a)·sin(π/(2N))))
/// (the cosine sum Σ_{t=a}^{b−1} cos(πt/N) in closed form, the Dirichlet-kernel identity);
///   wsd     η·(1 − (2/3)·(v_b^{3/2} − v_a^{3/2})/(v_b − v_a)), v = (t − S)/C
///   quadratic η·(u_a³ − u_b³)/(3(u_a − u_b)), cubic η·(u_a⁴ − u_b⁴)/(4(u_a − u_b)), u = 1 − t/N
/// (wsd, quadratic and cubic: the mean of the continuous curve over [a, b): the curve falls, so the
/// per-step mean is at most (lr_a − lr_b)/(b − a) above it).
/// Throws std::invalid_argument for steps < 1, peak_lr ≤ 0 or not finite, segments < 1, or a
/// cooldown fraction outside (0, 1].
std::vector<ScheduleSegment> schedule_segments(const ScheduleSpec& schedule, long steps);

/// A baseline planner: the job's warmup (if any), then the schedule's segments as stage launches,
/// one at a time, each from the previous one's checkpoint; no probes. A failed launch is retried up to
/// trainer.max_retries times, as AutoLrsSearch retries its stage launches; then the run fails.
/// Stage i of the record is segment i (lr set, probe_steps 0), appended when first launched.
class FixedSchedule : public LaunchPlanner {
 public:
  /// Throws std::invalid_argument like schedule_segments.
  FixedSchedule(const spec::JobSpec& job, const ScheduleSpec& schedule);
  /// Given launches instead of a shape: `warmup` (steps 0: none) in place of the job's, then
  /// `segments` (≥ 1, contiguous from 0, on the axis after that warmup), e.g. a replayed schedule.csv.
  FixedSchedule(const spec::JobSpec& job, const spec::WarmupSpec& warmup, std::vector<ScheduleSegment> segments);

  std::vector<LaunchRequest> next_launches(int free_slots) override;
  void record(const LaunchRequest& request, const LaunchOutcome& outcome) override;
  const std::vector<LaunchRequest>& outstanding() const override { return m_outstanding; }
  bool finished() const override;
  const std::optional<std::string>& failure() const override { return m_failure; }
  const SearchRecord& progress() const override { return m_record; }
  std::optional<double> reference_loss() const override { return m_reference_loss; }

  const std::vector<ScheduleSegment>& segments() const { return m_segments; }

 private:
  LaunchRequest next_request() const;

  spec::JobSpec m_job;
  spec::WarmupSpec m_warmup;
  std::vector<ScheduleSegment> m_segments;
  SearchRecord m_record;
  std::vector<LaunchRequest> m_outstanding;
  std::optional<double> m_reference_loss;
  std::optional<std::string> m_failure;
  bool m_warmup_due = false;
  size_t m_next_segment = 0;
  int m_attempt = 0;
};

}  // namespace autolrs::search
