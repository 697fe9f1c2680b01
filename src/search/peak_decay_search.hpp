#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/fixed_schedule.hpp"
#include "search/launch_planner.hpp"
#include "search/launch_types.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

/// The default search: find the peak LR by successive halving, hold it, then decay to zero.
///
/// A run of N steps after the warmup is planned as three phases:
/// 1. Peak search, with H = round(search_fraction·N). probes_per_stage candidate LRs, log-spaced over
///    [lr_min, lr_max], each train their own chain from the start checkpoint. In round r the
///    surviving candidates extend their chains to the horizon h_r: H/2^(R−1−r) before the last round
///    (H/8, H/4, H/2 for R = 4 rounds), round(final_horizon_factor·H) = 3H/2 in it; each chain's
///    checkpoint is then annealed by a decay tail of round(tail_fraction·h_r) steps (a linear ramp to
///    0 for a trainer that takes ramps, else a constant tenth of its LR) and judged by the loss at the
///    tail's end (the last val loss, else the least-squares line through the train losses of the
///    tail's last half, at its last step: search::trend_level_at_end). Half
///    of the candidates (rounded up) go on to the next round, until two remain for the last; the
///    largest LR still judged always goes on, in place of the last of that half. Annealing before
///    judging removes the noise floor a high LR carries, which makes an unannealed short run prefer
///    too small an LR (Wu et al. 2018); short rounds still favour small LRs where progress is slow
///    (the simulator's ill-conditioned task, ramped tails: LR 0.36 loses to 0.13 at 300 steps, ties
///    at 600 and wins at 1200), hence the largest survivor and the long last round.
/// 2. Hold: stage 0 is [0, 2H); its launch continues the winner's chain from step 3H/2 at its LR.
/// 3. Decay: the remaining N − 2H steps decay from the peak to 0 along `decay_shape`, cut into
///    stages 1 … S, S = max(decay_stages, ⌈(N − 2H)/max_stage_steps⌉): ramps following the curve's
///    chords, or constant pieces at the curve's mean over each piece (schedule_segments). With
///    `decay_shape` auto (the default) the last round's tails choose the curve: when annealing one of
///    its chains removed at least noise_limited_gain of its train loss (1 − the tail's level at its end /
///    the mean of the chain's last quarter),
///    the loss at these LRs is bounded by the LR's noise and the LR falls early (cubic, η·(1−t)³);
///    otherwise progress bounds it, and the LR falls linearly, staying high for longer. (Measured:
///    the simulator's tasks and the digits CNN remove 22–86% and are better with cubic; the
///    character LM removes under 5% and is 3–5% better with linear.)
/// A diverged or failed stage launch is retried up to trainer.max_retries times: stage 0 at the
/// other final-round candidate's LR from its own chain when there is one with a smaller LR, a decay stage with its and
/// every later stage's LRs halved. A run too short for the rounds (2H < R + 1 steps, or a single
/// candidate) trains its steps as one stage at the only candidate, or the bounds' geometric mean.
///
/// The record: stage 0 holds the candidates as probes (steps: the chain's length, end_loss: its last
/// judgement, rounds: the rounds it took part in), probe_steps = the last horizon; decay stages have no
/// probes.
/// planned_stages is known from the start.
class PeakDecaySearch : public LaunchPlanner {
 public:
  static constexpr double search_fraction = 0.1;
  static constexpr double final_horizon_factor = 1.5;
  static constexpr double tail_fraction = 0.125;
  static constexpr int decay_stages = 8;
  /// With decay_shape auto: the anneal gain from which the decay is cubic, below it linear.
  static constexpr double noise_limited_gain = 0.1;

  /// Steps of the decay tail that judges a chain of `horizon` steps: round(tail_fraction·horizon), ≥ 1.
  static long tail_steps(long horizon);

  explicit PeakDecaySearch(const spec::JobSpec& job);

  std::vector<LaunchRequest> next_launches(int free_slots) override;
  void record(const LaunchRequest& request, const LaunchOutcome& outcome) override;
  const std::vector<LaunchRequest>& outstanding() const override { return m_outstanding; }
  bool finished() const override;
  const std::optional<std::string>& failure() const override { return m_failure; }
  const SearchRecord& progress() const override { return m_record; }
  std::optional<double> reference_loss() const override { return m_reference_loss; }

  /// The candidates' chain horizons h_0 < … < h_{R−1} < hold_end(), in steps after the run's start step;
  /// empty when the run is too short to search.
  const std::vector<long>& horizons() const { return m_horizons; }
  /// Where the hold ends and the decay starts, 2H steps after the run's start step (0 without a search).
  long hold_end() const { return m_hold_end; }
  /// Candidates in each round: probes_per_stage, then half of the previous (rounded up), down to 2.
  const std::vector<int>& round_sizes() const { return m_round_sizes; }
  /// The decay phase as planned: at the winner's LR once there is one (before any halving after a
  /// divergence), at the bounds' geometric mean before.
  const std::vector<ScheduleSegment>& decay_plan() const { return m_decay; }

 private:
  void start_round(int round);
  void queue_tail(const LaunchRequest& chain);
  /// Once every candidate of the round is judged or out: keeps the best ones for the next round, or
  /// picks the winner after the last.
  void end_round_when_done();
  void choose_winner();
  /// The decay's shape once the last round is judged: the spec's, or with auto the one its tails say.
  void choose_decay_shape();
  std::optional<int> best_candidate(const std::vector<int>& candidates) const;
  void judge(ProbeRecord& probe, const LaunchOutcome& tail);
  void eliminate(ProbeRecord& probe, const LaunchOutcome& outcome, const std::string& during);
  void record_main(const LaunchRequest& request, const LaunchOutcome& outcome);
  /// After stage 0's launch failed at its LR: moves to the best other final-round candidate; false when none.
  bool fall_back_to_next_candidate(const LaunchRequest& request);
  void plan_decay(double peak_lr);
  void begin_stage(int index);

  spec::JobSpec m_job;
  ScheduleShape m_decay_shape;
  long m_run_start = 0;  ///< the warmup's steps: where stage 0 starts
  long m_budget = 0;     ///< steps after the warmup
  std::vector<long> m_horizons;
  long m_hold_end = 0;
  std::vector<int> m_round_sizes;
  int m_round = -1;
  std::vector<int> m_in_round;  ///< candidates of the current round
  std::vector<LaunchRequest> m_due;  ///< launches decided and not yet handed out
  std::vector<ScheduleSegment> m_decay;
  double m_lr_scale = 1;  ///< halved after each diverged decay stage
  SearchRecord m_record;
  std::vector<LaunchRequest> m_outstanding;
  /// The divergence reference of the next main launch: the level the last one ended at; for the hold,
  /// the level the winner's chain ended at (not the hold's own first loss, which near convergence
  /// can be one lucky minibatch's).
  std::optional<double> m_reference_loss;
  std::vector<std::optional<double>> m_chain_levels;  ///< per candidate: where its chain last ended
  /// Per candidate, for the anneal gain: the mean of its last chain's last quarter of train losses (more
  /// of them than the divergence reference's 20: minibatch noise at a high LR is large), and its last
  /// tail's train trend at its end.
  std::vector<std::optional<double>> m_chain_quarter_levels, m_tail_levels;
  std::optional<std::string> m_failure;
  bool m_main_launch_due = false;
  int m_main_attempt = 0;
};

}  // namespace autolrs::search
