#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "numerics/bayes_opt.hpp"
#include "numerics/forecaster.hpp"
#include "search/loss_series.hpp"
#include "spec/job_spec.hpp"

namespace autolrs::search {

enum class LaunchKind { warmup, probe, stage };
const char* to_string(LaunchKind kind);

/// A trainer launch the search asks for. Every launch starts from the checkpoint of model step
/// `start_step` (the stage's start checkpoint), or from scratch when that step is 0 and the job has
/// no initial checkpoint.
struct LaunchRequest {
  LaunchKind kind = LaunchKind::stage;
  int stage = -1;     ///< 0-based stage; -1 for the warmup
  int probe = -1;     ///< 0-based probe within the stage; -1 unless kind == probe
  int attempt = 0;    ///< retries of a failed stage launch count up from 0
  double lr = 0;
  long steps = 0;       ///< steps this launch trains
  long start_step = 0;  ///< model step the launch starts from

  /// Stable name, unique within a run: "warmup", "stage-003", "stage-003-probe-07", "stage-003-retry-1".
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

enum class ProbeStatus { pending, succeeded, failed, diverged };
const char* to_string(ProbeStatus status);

struct ProbeRecord {
  int index = 0;
  double lr = 0;
  long steps = 0;
  ProbeStatus status = ProbeStatus::pending;
  std::string reason;
  std::optional<numerics::Forecast> forecast;  ///< of the stage's objective at the stage's end
  bool forecast_from_val = false;               ///< the forecast used the val series
};

/// One stage's search and training, as decided so far.
struct StageRecord {
  int index = 0;
  long start_step = 0;
  long steps = 0;        ///< τ
  long probe_steps = 0;  ///< τ′ (0 when the stage is too short to search: it reuses the last LR)
  std::vector<ProbeRecord> probes;
  std::optional<double> lr;  ///< chosen LR, once probing is over
  std::vector<numerics::PosteriorPoint> posterior;  ///< GP posterior when the LR was chosen
  int attempts = 0;          ///< stage launches made
  bool completed = false;
  std::optional<double> final_loss;      ///< last finite train loss of the stage launch
  std::optional<double> final_val_loss;  ///< last finite val loss of the stage launch
};

struct WarmupRecord {
  double lr = 0;
  long steps = 0;
  int attempts = 0;
  bool completed = false;
  std::optional<double> final_loss, final_val_loss;
};

/// Everything the search has decided and seen, for outputs and reports.
struct SearchRecord {
  std::optional<WarmupRecord> warmup;
  std::vector<StageRecord> stages;
  long model_steps = 0;  ///< steps of completed warmup and stage launches
  long probe_steps = 0;  ///< steps of finished probe launches (failed ones count what they ran: their budget)
};

/// The AutoLRS search as a state machine: launches go out through next_launches(), their outcomes
/// come back through record(). No processes, files or clocks; the same spec and the same sequence of
/// calls give the same decisions, so a run can be replayed from its journal.
///
/// Per stage (Jin et al., ICLR 2021): probes_per_stage probes of τ′ steps at LRs proposed by BO over
/// log(LR); each probe's series is forecast to τ steps and told to the GP (failures as penalties);
/// then the LR with the best observed forecast trains the stage for τ steps from the same checkpoint.
class AutoLrsSearch {
 public:
  explicit AutoLrsSearch(const spec::JobSpec& job);
  ~AutoLrsSearch();

  /// Launches that may start now, at most `free_slots` (≥ 1), in a deterministic order. Empty while
  /// the next decision waits on outstanding launches, and once finished() or failed().
  std::vector<LaunchRequest> next_launches(int free_slots);

  /// Takes the outcome of a launch returned by next_launches() and not yet recorded.
  /// Throws std::logic_error for a request that is not outstanding.
  void record(const LaunchRequest& request, const LaunchOutcome& outcome);

  /// The launches handed out and not yet recorded (e.g. to restart after an interruption).
  const std::vector<LaunchRequest>& outstanding() const { return m_outstanding; }

  bool finished() const;
  /// Why the run cannot go on (a stage failed past its retries, every probe of a stage failed).
  const std::optional<std::string>& failure() const { return m_failure; }

  const SearchRecord& progress() const { return m_record; }
  /// Loss that a stage's probes are judged against for early divergence stops: the last finite
  /// train loss of the previous main launch, when there is one.
  std::optional<double> reference_loss() const { return m_reference_loss; }

 private:
  struct StageSearch;

  void begin_next_stage();
  void choose_stage_lr();
  void record_probe(const LaunchRequest& request, const LaunchOutcome& outcome);
  void record_main(const LaunchRequest& request, const LaunchOutcome& outcome);
  LaunchRequest main_launch_request() const;
  bool use_val_objective(const StageRecord& stage) const;

  spec::JobSpec m_job;
  SearchRecord m_record;
  std::unique_ptr<StageSearch> m_stage;  ///< BO state of the stage being probed
  std::vector<LaunchRequest> m_outstanding;
  std::optional<double> m_reference_loss;
  std::optional<double> m_last_lr;
  std::optional<std::string> m_failure;
  bool m_main_launch_due = false;
  int m_main_attempt = 0;
};

}  // namespace autolrs::search
