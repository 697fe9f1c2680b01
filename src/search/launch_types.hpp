#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "numerics/bayes_opt.hpp"
#include "numerics/forecaster.hpp"
#include "search/loss_series.hpp"

namespace autolrs::search {

enum class LaunchKind { warmup, probe, stage };
const char* to_string(LaunchKind kind);

/// A trainer launch the search asks for. A launch starts from the checkpoint of model step
/// `start_step` (the stage's start checkpoint), or from a probe's (see from_probe), or from scratch
/// when that step is 0 and the job has no initial checkpoint.
struct LaunchRequest {
  LaunchKind kind = LaunchKind::stage;
  int stage = -1;     ///< 0-based stage; -1 for the warmup
  int probe = -1;     ///< 0-based probe within the stage; -1 unless kind == probe
  int attempt = 0;    ///< retries of a failed stage launch count up from 0
  double lr = 0;
  long steps = 0;       ///< steps this launch trains
  long start_step = 0;  ///< model step the launch starts from
  /// A launch that continues from this probe's checkpoint (of the same stage) rather than from the
  /// checkpoint of `start_step`: a stage launch continuing its winning probe, or a decay tail; -1 for none.
  int from_probe = -1;
  /// A probe's decay tail: probe `probe` continued from its own checkpoint at a decayed LR, so that
  /// probes are compared after the LR-proportional part of their loss has decayed (SearchStrategy).
  bool decay_tail = false;
  /// A ramp: the LR moves linearly from lr to lr_end over the launch (step k of its n at
  /// lr + (lr_end − lr)·k/n; lr_end is the LR of the step after it), for trainers whose command takes
  /// `{lr_end}`. nullopt: every step at lr (`{lr_end}` then expands to lr).
  std::optional<double> lr_end = std::nullopt;
  /// A probe's round (PeakDecaySearch): round r > 0 continues the probe's own chain from its
  /// checkpoint (from_probe == probe) to a longer horizon; 0 otherwise.
  int round = 0;

  /// Stable name, unique within a run: "warmup", "stage-003", "stage-003-probe-07",
  /// "stage-003-probe-07-decay", "stage-003-probe-07-r2", "stage-003-probe-07-r2-decay",
  /// "stage-003-retry-1".
  std::string id() const;
  bool operator==(const LaunchRequest&) const = default;
};

enum class OutcomeStatus {
  succeeded,  ///< exited 0, wrote its checkpoint, printed losses
  failed,     ///< crashed, hung, timed out, wrote no checkpoint or no loss lines (see reason)
  diverged    ///< printed a non-finite or exploding loss
};
const char* to_string(OutcomeStatus status);

/// What a finished launch yielded; losses are on the launch's own step axis (see place_on_launch_axis).
struct LaunchOutcome {
  OutcomeStatus status = OutcomeStatus::failed;
  std::string reason;  ///< empty on success
  std::vector<LossPoint> train;
  std::vector<LossPoint> val;
};

/// The LR of the step that printed the loss at `launch_step` (the launch's own 1-based axis: the k-th
/// step, k = launch_step − 1, of a ramp runs at lr + (lr_end − lr)·k/steps), clamped to the launch.
double lr_at_launch_step(const LaunchRequest& request, double launch_step);

/// Removes `request` from `outstanding` (a planner's launches handed out and not yet recorded); throws
/// std::logic_error when it is not there.
void take_outstanding(std::vector<LaunchRequest>& outstanding, const LaunchRequest& request);

/// Steps a finished launch actually trained: all of them on success, else as far as its losses reached.
long steps_run(const LaunchRequest& request, const LaunchOutcome& outcome);

enum class ProbeStatus { pending, succeeded, failed, diverged };
const char* to_string(ProbeStatus status);

/// Which of a probe's values the search compared it by.
enum class ProbeJudgement {
  none,      ///< not judged (yet): pending, failed or diverged
  forecast,  ///< forecast->prediction, the forecast of the stage's objective at the stage's end
  end_loss   ///< end_loss, the loss at the end of its decay tail (or of the probe, see StageRecord::decay_tails)
};

struct ProbeRecord {
  int index = 0;
  double lr = 0;
  long steps = 0;
  ProbeStatus status = ProbeStatus::pending;
  std::string reason;
  std::optional<numerics::Forecast> forecast;  ///< of the stage's objective at the stage's end
  bool forecast_from_val = false;               ///< the forecast used the val series
  /// The loss the probe is judged by when the strategy compares end losses (SearchStrategy): at the
  /// end of its decay tail, or of the probe itself in the run's last stage.
  std::optional<double> end_loss;
  bool end_loss_from_val = false;  ///< end_loss is a val loss (else a mean of train losses)
  /// What the search judged the probe by, set when it judged it; the console and the report show
  /// that value (judged_value) and never decide which it is.
  ProbeJudgement judged_by = ProbeJudgement::none;
  /// Rounds of a successive-halving search the probe took part in (PeakDecaySearch; each round
  /// lengthens its chain to `steps` and judges it after a decay tail); 0 for other searches.
  int rounds = 0;
};

/// What a probe's launch outcome makes of the probe: succeeded, diverged, else failed.
inline ProbeStatus probe_status_of(OutcomeStatus status) {
  return status == OutcomeStatus::succeeded ? ProbeStatus::succeeded
         : status == OutcomeStatus::diverged ? ProbeStatus::diverged
                                             : ProbeStatus::failed;
}

/// "stage S: every probe failed (lr 0.1: <reason>; lr 0.01: <reason>)", the run's failure when no
/// probe of `probes` was judged.
std::string every_probe_failed(int stage, const std::vector<ProbeRecord>& probes);

/// The value the search judged `probe` by (see ProbeRecord::judged_by); nullopt while it has none.
inline std::optional<double> judged_value(const ProbeRecord& probe) {
  switch (probe.judged_by) {
    case ProbeJudgement::forecast: return probe.forecast->prediction;
    case ProbeJudgement::end_loss: return probe.end_loss;
    case ProbeJudgement::none: break;
  }
  return std::nullopt;
}

/// One stage's search and training, as decided so far.
struct StageRecord {
  int index = 0;
  long start_step = 0;
  long steps = 0;        ///< τ
  long probe_steps = 0;  ///< τ′ (0 when the stage is too short to search: it reuses the last LR)
  /// Probes the stage runs, as the search planned them (after clamping its LRs to the bounds and
  /// dropping duplicates); 0 for a stage without probes. probes.size() reaches it once all are issued.
  int probe_count = 0;
  /// Its probes are followed by decay tails and judged at the tails' end. False with forecasts, in
  /// the run's last stage (no decay follows it) and for a stage's only probe: then a probe judged by
  /// its end loss is judged at its own end.
  bool decay_tails = false;
  std::vector<ProbeRecord> probes;
  std::optional<double> lr;  ///< chosen LR, once probing is over
  int winner_probe = -1;     ///< the probe whose LR won; -1 when none (a stage too short to probe)
  /// LRs the stage launch was abandoned at, in order (it diverged, or a first stage made no progress:
  /// see SearchStrategy); each time the stage was retried at the next best probe's LR.
  std::vector<double> abandoned_lrs;
  /// The GP posterior when the LR was chosen, for a stage whose probe LRs the GP proposed; empty for
  /// one that tried fixed LRs (later stagewise stages) or was not searched by a GP.
  std::vector<numerics::PosteriorPoint> posterior;
  int attempts = 0;          ///< stage launches made
  bool completed = false;
  std::optional<double> final_loss;      ///< last finite train loss of the stage launch
  std::optional<double> final_val_loss;  ///< last finite val loss of the stage launch
  std::optional<double> lr_end = std::nullopt;  ///< for a stage trained as a ramp, the LR it ramps to (see LaunchRequest)
};

/// How many of the stage's probes the search judged by a value (judged_value): fewer than
/// probe_count in a stage whose LR was chosen means it was decided on fewer probes than planned
/// (the others failed or diverged), which the console, summary.json and the report say.
inline int judged_probe_count(const StageRecord& stage) {
  int judged = 0;
  for (const ProbeRecord& probe : stage.probes) judged += judged_value(probe).has_value();
  return judged;
}

/// Whether the stage's LR was chosen on fewer probes than it planned (judged_probe_count).
inline bool decided_on_fewer_probes(const StageRecord& stage) {
  const int judged = judged_probe_count(stage);
  return stage.lr && judged > 0 && judged < stage.probe_count;
}

struct WarmupRecord {
  double lr = 0;
  long steps = 0;
  int attempts = 0;
  bool completed = false;
  std::optional<double> final_loss, final_val_loss;
};

/// The default search's decay after the hold, once its peak is chosen.
struct DecayChoice {
  std::string shape;  ///< a ScheduleShape's name
  /// With `decay_shape` auto: the largest share of its train loss that a last-round decay tail
  /// removed, 1 − (the tail's level at its end) / (the mean of the chain's last quarter), at most 1; it
  /// chose the shape.
  std::optional<double> anneal_gain;
};

/// Everything the search has decided and seen, for outputs and reports.
struct SearchRecord {
  std::optional<WarmupRecord> warmup;
  std::vector<StageRecord> stages;
  long model_steps = 0;  ///< steps of completed warmup and stage launches
  long probe_steps = 0;  ///< steps of finished probe launches (failed ones count what they ran: their budget)
  long discarded_steps = 0;  ///< steps of warmup and stage launches that were run again (as far as they ran)
  int planned_stages = 0;  ///< stages the run will train when the planner knows up front (fixed schedules), else 0
  std::optional<DecayChoice> decay;  ///< the default search's decay, once its peak is chosen

  /// Whether the search accepted stage `stage` (≥ 0): a launch of it trained the stage (completed).
  /// A stage this record does not hold (a planner that records none) is accepted by its launch.
  bool stage_accepted(int stage) const {
    const std::size_t index = static_cast<std::size_t>(stage);
    return index >= stages.size() || stages[index].completed;
  }
};

}  // namespace autolrs::search
