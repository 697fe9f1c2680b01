#include "search/fixed_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "search/main_launch.hpp"

namespace autolrs::search {

namespace {

constexpr ScheduleShape all_shapes[] = {ScheduleShape::constant, ScheduleShape::cosine, ScheduleShape::step,
                                        ScheduleShape::linear, ScheduleShape::wsd, ScheduleShape::quadratic,
                                        ScheduleShape::cubic};

/// A decaying curve cut into launches: its per-step LR at step t of its n steps, and the mean of the
/// per-step LR over the steps a … b−1 (closed forms in the header).
struct Decay {
  ScheduleShape shape;
  double peak_lr;
  long n;

  /// The exponent k of a polynomial decay η·(1 − t/n)^k.
  double power() const { return shape == ScheduleShape::cubic ? 3.0 : 2.0; }

  double lr_at(long t) const {
    const double x = static_cast<double>(t) / static_cast<double>(n);
    switch (shape) {
      case ScheduleShape::cosine: return peak_lr * 0.5 * (1.0 + std::cos(std::numbers::pi * x));
      case ScheduleShape::wsd: return peak_lr * (1.0 - std::sqrt(x));
      case ScheduleShape::quadratic:
      case ScheduleShape::cubic: return peak_lr * std::pow(1.0 - x, power());
      default: return peak_lr * (1.0 - x);
    }
  }

  double mean_lr(long a, long b) const {
    const double count = static_cast<double>(b - a);
    const double total = static_cast<double>(n);
    switch (shape) {
      case ScheduleShape::cosine: {
        const double half_angle = std::numbers::pi / (2.0 * total);
        const double cosine_sum = std::sin(count * half_angle) * std::cos(static_cast<double>(a + b - 1) * half_angle) /
                                  std::sin(half_angle);
        return peak_lr * 0.5 * (1.0 + cosine_sum / count);
      }
      case ScheduleShape::wsd: {
        const double va = static_cast<double>(a) / total, vb = static_cast<double>(b) / total;
        return peak_lr * (1.0 - (2.0 / 3.0) * (std::pow(vb, 1.5) - std::pow(va, 1.5)) / (vb - va));
      }
      case ScheduleShape::quadratic:
      case ScheduleShape::cubic: {
        // The integral of u^k over [u_b, u_a], divided by the interval.
        const double ua = 1.0 - static_cast<double>(a) / total, ub = 1.0 - static_cast<double>(b) / total;
        const double k = power();
        return peak_lr * (std::pow(ua, k + 1) - std::pow(ub, k + 1)) / ((k + 1) * (ua - ub));
      }
      default: return peak_lr * (1.0 - static_cast<double>(a + b - 1) / (2.0 * total));
    }
  }

  /// min(segments, n) launches over [0, n), their steps offset by `first_step`.
  void append_segments(int segments, bool ramps, long first_step, std::vector<ScheduleSegment>& out) const {
    const long count = std::min<long>(segments, n);
    for (long k = 0; k < count; ++k) {
      const long start = k * n / count;
      const long end = (k + 1) * n / count;
      ScheduleSegment segment{first_step + start, end - start, ramps ? lr_at(start) : mean_lr(start, end), {}};
      if (ramps) segment.lr_end = lr_at(end);
      out.push_back(segment);
    }
  }
};

}  // namespace

const char* to_string(ScheduleShape shape) {
  switch (shape) {
    case ScheduleShape::constant: return "constant";
    case ScheduleShape::wsd: return "wsd";
    case ScheduleShape::cosine: return "cosine";
    case ScheduleShape::step: return "step";
    case ScheduleShape::linear: return "linear";
    case ScheduleShape::quadratic: return "quadratic";
    case ScheduleShape::cubic: return "cubic";
  }
  return "?";
}

std::optional<ScheduleShape> schedule_shape_from_name(std::string_view name) {
  for (ScheduleShape shape : all_shapes) {
    if (name == to_string(shape)) return shape;
  }
  return std::nullopt;
}

bool is_piecewise_constant(ScheduleShape shape) {
  return shape == ScheduleShape::constant || shape == ScheduleShape::step;
}

std::vector<ScheduleSegment> schedule_segments(const ScheduleSpec& schedule, long steps) {
  if (steps < 1) throw std::invalid_argument("schedule_segments: steps must be >= 1");
  if (!std::isfinite(schedule.peak_lr) || schedule.peak_lr <= 0) {
    throw std::invalid_argument("schedule_segments: peak_lr must be finite and > 0");
  }
  if (schedule.segments < 1) throw std::invalid_argument("schedule_segments: segments must be >= 1");
  if (!(schedule.cooldown_fraction > 0 && schedule.cooldown_fraction <= 1)) {
    throw std::invalid_argument("schedule_segments: cooldown_fraction must be in (0, 1]");
  }
  const double peak = schedule.peak_lr;
  std::vector<ScheduleSegment> segments;
  switch (schedule.shape) {
    case ScheduleShape::constant:
      segments.push_back({0, steps, peak, {}});
      break;
    case ScheduleShape::step: {
      const long bounds[] = {0, steps / 2, steps * 3 / 4, steps};
      // Divided rather than multiplied by 0.1: a peak of 0.1 gives exactly 0.01 and 0.001.
      const double divisors[] = {1, 10, 100};
      for (int piece = 0; piece < 3; ++piece) {
        if (bounds[piece + 1] > bounds[piece]) {
          segments.push_back({bounds[piece], bounds[piece + 1] - bounds[piece], peak / divisors[piece], {}});
        }
      }
      break;
    }
    case ScheduleShape::cosine:
    case ScheduleShape::linear:
    case ScheduleShape::quadratic:
    case ScheduleShape::cubic:
      Decay{schedule.shape, peak, steps}.append_segments(schedule.segments, schedule.ramps, 0, segments);
      break;
    case ScheduleShape::wsd: {
      const long cooldown = std::clamp(std::lround(schedule.cooldown_fraction * static_cast<double>(steps)), 1L, steps);
      const long stable = steps - cooldown;
      if (stable > 0) segments.push_back({0, stable, peak, {}});
      Decay{ScheduleShape::wsd, peak, cooldown}.append_segments(schedule.segments, schedule.ramps, stable, segments);
      break;
    }
  }
  return segments;
}

FixedSchedule::FixedSchedule(const spec::JobSpec& job, const ScheduleSpec& schedule)
    : FixedSchedule(job, job.warmup, schedule_segments(schedule, job.total_steps - job.warmup.steps)) {}

FixedSchedule::FixedSchedule(const spec::JobSpec& job, const spec::WarmupSpec& warmup, std::vector<ScheduleSegment> segments)
    : m_job(job), m_warmup(warmup), m_segments(std::move(segments)) {
  if (m_segments.empty()) throw std::invalid_argument("FixedSchedule: no segments");
  m_record.planned_stages = static_cast<int>(m_segments.size());
  if (m_warmup.steps > 0) {
    m_record.warmup.emplace();
    m_record.warmup->lr = m_warmup.lr;
    m_record.warmup->steps = m_warmup.steps;
    m_warmup_due = true;
  }
}

bool FixedSchedule::finished() const {
  return !m_failure && m_outstanding.empty() && !m_warmup_due && m_next_segment == m_segments.size();
}

LaunchRequest FixedSchedule::next_request() const {
  LaunchRequest request;
  request.attempt = m_attempt;
  if (m_warmup_due) {
    request.kind = LaunchKind::warmup;
    request.lr = m_warmup.lr;
    request.steps = m_warmup.steps;
    return request;
  }
  const ScheduleSegment& segment = m_segments[m_next_segment];
  request.kind = LaunchKind::stage;
  request.stage = static_cast<int>(m_next_segment);
  request.lr = segment.lr;
  request.lr_end = segment.lr_end;
  request.steps = segment.steps;
  request.start_step = m_warmup.steps + segment.start_step;
  return request;
}

std::vector<LaunchRequest> FixedSchedule::next_launches(int free_slots) {
  if (free_slots <= 0 || m_failure || !m_outstanding.empty() || finished()) return {};
  const LaunchRequest request = next_request();
  if (request.kind == LaunchKind::warmup) {
    ++m_record.warmup->attempts;
  } else {
    if (m_record.stages.size() == m_next_segment) {
      StageRecord& stage = m_record.stages.emplace_back();
      stage.index = request.stage;
      stage.start_step = request.start_step;
      stage.steps = request.steps;
      stage.lr = request.lr;
      stage.lr_end = request.lr_end;
    }
    ++m_record.stages.back().attempts;
  }
  m_outstanding.push_back(request);
  return {request};
}

void FixedSchedule::record(const LaunchRequest& request, const LaunchOutcome& outcome) {
  if (m_outstanding.empty() || !(m_outstanding.front() == request)) {
    throw std::logic_error("record: launch " + request.id() + " is not outstanding");
  }
  m_outstanding.clear();
  switch (record_main_launch(m_record, request, outcome, m_job.trainer.max_retries, m_reference_loss, m_failure)) {
    case MainLaunchVerdict::retry:
      ++m_attempt;
      return;
    case MainLaunchVerdict::failed:
      return;
    case MainLaunchVerdict::completed:
      if (request.kind == LaunchKind::warmup) {
        m_warmup_due = false;
      } else {
        ++m_next_segment;
      }
      m_attempt = 0;
      return;
  }
}

}  // namespace autolrs::search
