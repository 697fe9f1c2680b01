#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/launch_planner.hpp"
#include "search/launch_types.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The LR range test (Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017), as
/// independent short launches: `points` LRs log-spaced over [lr_low, lr_high], each trained `steps`
/// steps from the job's start (its initial checkpoint, or scratch).
struct RangeTestPlan {
  double lr_low = 0;
  double lr_high = 0;
  int points = 0;
  long steps = 0;
};

/// Defaults: the spec's search bounds widened 100× each way (1e-6..100 for the default 1e-4..1), 25
/// points (3 per decade over 8 decades), and the first stage's probe length τ′ as steps.
RangeTestPlan default_range_test_plan(const spec::JobSpec& job);

/// Throws spec::InputError on the option at fault (--lr-min, --lr-max, --points, --steps) unless
/// 0 < lr_low < lr_high, both finite, 2 ≤ points ≤ 1000 and steps ≥ 1.
void check_range_test_plan(const RangeTestPlan& plan);

/// lr_low · (lr_high/lr_low)^(i/(points−1)) for i = 0..points−1; the ends are exact.
std::vector<double> range_test_lrs(const RangeTestPlan& plan);

/// One tested LR and what its launch yielded.
struct RangeTestPoint {
  double lr = 0;
  OutcomeStatus status = OutcomeStatus::failed;
  std::vector<LossPoint> train;
};

/// Runs a range test under the orchestrator: every point is a probe launch of stage 0 (probe i at
/// the i-th LR, start step 0), handed out in LR order as slots free up. progress() holds them as
/// stage 0's probes (no forecasts), so summary.json and losses.csv describe the test.
class RangeTest : public LaunchPlanner {
 public:
  explicit RangeTest(const RangeTestPlan& plan);

  std::vector<LaunchRequest> next_launches(int free_slots) override;
  void record(const LaunchRequest& request, const LaunchOutcome& outcome) override;
  const std::vector<LaunchRequest>& outstanding() const override { return m_outstanding; }
  /// Every point recorded.
  bool finished() const override;
  /// Set when every point failed (crashed, printed no loss, wrote no checkpoint): nothing to analyze.
  const std::optional<std::string>& failure() const override { return m_failure; }
  const SearchRecord& progress() const override { return m_record; }
  /// None: each launch is judged against its own first loss.
  std::optional<double> reference_loss() const override { return std::nullopt; }

  /// The points recorded so far, in LR order.
  std::vector<RangeTestPoint> points() const;

 private:
  std::vector<double> m_lrs;
  long m_steps;
  int m_issued = 0;
  std::vector<std::optional<RangeTestPoint>> m_points;
  std::vector<LaunchRequest> m_outstanding;
  SearchRecord m_record;
  std::optional<std::string> m_failure;
};

/// One row of the analysis.
struct RangeTestRow {
  double lr = 0;
  OutcomeStatus status = OutcomeStatus::failed;
  /// Mean of the last fifth (at least one) of the launch's losses; none when it failed or diverged.
  std::optional<double> final_loss;
};

/// What the range test suggests.
struct RangeTestAnalysis {
  std::vector<RangeTestRow> rows;     ///< in LR order
  std::optional<double> start_loss;   ///< mean of the first fifth of the losses of the lowest LR that printed one
  std::optional<double> best_lr;      ///< lowest final loss
  std::optional<double> lr_min, lr_max;  ///< the suggested search bounds; none when no LR made progress
  std::string explanation;            ///< the rule's outcome, or why there is no suggestion
};

/// The suggestion rule. Progress of an LR = start_loss − final_loss. best_lr makes the most progress.
/// lr_max: walking up from best_lr, the largest LR reached before one that diverged, failed, or made
/// less than half the best progress (the loss still falls well, short of divergence). lr_min =
/// lr_max / 1000, no lower than the lowest LR tested: a 3-decade search range, leaving room for the
/// schedule to decay well below the LR that is best over a short horizon. Both are rounded to two
/// significant digits. No suggestion when no LR lowered the loss.
RangeTestAnalysis analyze_range_test(const std::vector<RangeTestPoint>& points);

}  // namespace autolrs::search
