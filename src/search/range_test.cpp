#include "search/range_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "search/stage_plan.hpp"
#include "spec/input_error.hpp"

namespace autolrs::search {

namespace {

constexpr double bound_widening = 100;
constexpr int default_points = 25;
constexpr double lr_min_divisor = 1000;

/// Mean of the first (or last) fifth, at least one, of the finite losses of a series.
std::optional<double> smoothed_loss(const std::vector<LossPoint>& train, bool at_end) {
  std::vector<double> finite;
  for (const LossPoint& point : train) {
    if (std::isfinite(point.loss)) finite.push_back(point.loss);
  }
  if (finite.empty()) return std::nullopt;
  const size_t count = std::max<size_t>(1, finite.size() / 5);
  const size_t first = at_end ? finite.size() - count : 0;
  double sum = 0;
  for (size_t i = first; i < first + count; ++i) sum += finite[i];
  return sum / static_cast<double>(count);
}

/// `value` rounded to two significant digits, for bounds people paste into a spec.
double two_digits(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2g", value);
  return std::strtod(text, nullptr);
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

}  // namespace

RangeTestPlan default_range_test_plan(const spec::JobSpec& job) {
  const long first_stage = stage_steps(job.search, 0, job.total_steps - job.warmup.steps);
  return RangeTestPlan{job.search.lr_min / bound_widening, job.search.lr_max * bound_widening, default_points,
                       probe_steps(job.search, std::max(1L, first_stage))};
}

void check_range_test_plan(const RangeTestPlan& plan) {
  if (!(plan.lr_low > 0) || !std::isfinite(plan.lr_low)) {
    throw spec::InputError("--lr-min", "must be a finite number > 0, got " + number(plan.lr_low));
  }
  if (!(plan.lr_high > plan.lr_low) || !std::isfinite(plan.lr_high)) {
    throw spec::InputError("--lr-max", "must be finite and > --lr-min (" + number(plan.lr_low) + "), got " + number(plan.lr_high));
  }
  if (plan.points < 2 || plan.points > 1000) {
    throw spec::InputError("--points", "must be in [2, 1000], got " + std::to_string(plan.points));
  }
  if (plan.steps < 1) throw spec::InputError("--steps", "must be >= 1, got " + std::to_string(plan.steps));
}

std::vector<double> range_test_lrs(const RangeTestPlan& plan) {
  std::vector<double> lrs;
  const double log_low = std::log(plan.lr_low), log_span = std::log(plan.lr_high) - log_low;
  for (int i = 0; i < plan.points; ++i) {
    lrs.push_back(i == 0                 ? plan.lr_low
                  : i == plan.points - 1 ? plan.lr_high
                                         : std::exp(log_low + log_span * i / (plan.points - 1)));
  }
  return lrs;
}

RangeTest::RangeTest(const RangeTestPlan& plan)
    : m_lrs(range_test_lrs(plan)), m_steps(plan.steps), m_points(m_lrs.size()) {
  StageRecord& stage = m_record.stages.emplace_back();
  stage.steps = plan.steps;
  stage.probe_steps = plan.steps;
  stage.probe_count = static_cast<int>(m_lrs.size());
}

std::vector<LaunchRequest> RangeTest::next_launches(int free_slots) {
  std::vector<LaunchRequest> launches;
  StageRecord& stage = m_record.stages.front();
  for (; free_slots > 0 && m_issued < static_cast<int>(m_lrs.size()); --free_slots, ++m_issued) {
    const LaunchRequest request{LaunchKind::probe, 0, m_issued, 0, m_lrs[static_cast<size_t>(m_issued)], m_steps, 0};
    ProbeRecord& probe = stage.probes.emplace_back();
    probe.index = request.probe;
    probe.lr = request.lr;
    probe.steps = request.steps;
    launches.push_back(request);
  }
  m_outstanding.insert(m_outstanding.end(), launches.begin(), launches.end());
  return launches;
}

void RangeTest::record(const LaunchRequest& request, const LaunchOutcome& outcome) {
  take_outstanding(m_outstanding, request);
  m_points[static_cast<size_t>(request.probe)] = RangeTestPoint{request.lr, outcome.status, outcome.train};
  m_record.probe_steps += steps_run(request, outcome);
  ProbeRecord& probe = m_record.stages.front().probes.at(static_cast<size_t>(request.probe));
  probe.status = probe_status_of(outcome.status);
  probe.reason = outcome.reason;
  if (outcome.status == OutcomeStatus::succeeded) {
    // The final loss the analysis ranks it by: the console line, summary.json and the table agree.
    probe.end_loss = smoothed_loss(outcome.train, true);
    probe.judged_by = ProbeJudgement::end_loss;
  }
  if (finished()) {
    m_record.stages.front().completed = true;
    const bool all_failed = std::all_of(m_points.begin(), m_points.end(), [](const std::optional<RangeTestPoint>& point) {
      return point->status == OutcomeStatus::failed;
    });
    if (all_failed) m_failure = "every range-test launch failed (see the logs; last: " + outcome.reason + ")";
  }
}

bool RangeTest::finished() const {
  return std::all_of(m_points.begin(), m_points.end(), [](const auto& point) { return point.has_value(); });
}

std::vector<RangeTestPoint> RangeTest::points() const {
  std::vector<RangeTestPoint> points;
  for (const std::optional<RangeTestPoint>& point : m_points) {
    if (point) points.push_back(*point);
  }
  return points;
}

RangeTestAnalysis analyze_range_test(const std::vector<RangeTestPoint>& points) {
  RangeTestAnalysis analysis;
  std::vector<RangeTestPoint> sorted = points;
  std::sort(sorted.begin(), sorted.end(), [](const RangeTestPoint& a, const RangeTestPoint& b) { return a.lr < b.lr; });
  for (const RangeTestPoint& point : sorted) {
    RangeTestRow& row = analysis.rows.emplace_back(RangeTestRow{point.lr, point.status, std::nullopt});
    if (!analysis.start_loss) analysis.start_loss = smoothed_loss(point.train, false);
    if (point.status == OutcomeStatus::succeeded) row.final_loss = smoothed_loss(point.train, true);
  }
  if (!analysis.start_loss) {
    analysis.explanation = "no launch printed a loss";
    return analysis;
  }
  std::optional<size_t> best;
  for (size_t i = 0; i < analysis.rows.size(); ++i) {
    const std::optional<double>& loss = analysis.rows[i].final_loss;
    if (loss && (!best || *loss < *analysis.rows[*best].final_loss)) best = i;
  }
  const double best_progress = best ? *analysis.start_loss - *analysis.rows[*best].final_loss : 0;
  if (!(best_progress > 0)) {
    analysis.explanation = "no LR lowered the loss from " + number(*analysis.start_loss) +
                           ": try more --steps, or a range reaching lower (--lr-min) or higher (--lr-max)";
    return analysis;
  }
  analysis.best_lr = analysis.rows[*best].lr;
  size_t top = *best;
  while (top + 1 < analysis.rows.size()) {
    const std::optional<double>& next = analysis.rows[top + 1].final_loss;
    if (!next || *analysis.start_loss - *next < 0.5 * best_progress) break;
    ++top;
  }
  analysis.lr_max = two_digits(analysis.rows[top].lr);
  analysis.lr_min = two_digits(std::max(*analysis.lr_max / lr_min_divisor, analysis.rows.front().lr));
  analysis.explanation = "best LR " + number(*analysis.best_lr) + " (loss " + number(*analysis.start_loss) + " -> " +
                         number(*analysis.rows[*best].final_loss) + "); lr_max " + number(*analysis.lr_max) +
                         ": the largest LR above it whose loss fell at least half as much, before divergence; lr_min = lr_max / 1000";
  if (top + 1 == analysis.rows.size()) analysis.explanation += " (the highest LR tested still fell well: try a higher --lr-max)";
  return analysis;
}

}  // namespace autolrs::search
