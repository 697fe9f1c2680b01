#include "search/autolrs_search.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "search/main_launch.hpp"
#include "search/stage_plan.hpp"

namespace autolrs::search {

namespace {

/// SplitMix64 finalizer: decorrelates the per-stage BO seeds derived from the job's seed.
std::uint64_t mix_seed(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

/// The stage's BO settings: the spec's bounds, narrowed to a window around the last stage's LR when
/// the strategy says so.
numerics::BayesOptConfig bayes_opt_config(const spec::SearchSpec& search, const SearchStrategy& strategy,
                                          std::optional<double> last_lr) {
  numerics::BayesOptConfig config;
  config.lr_min = search.lr_min;
  config.lr_max = search.lr_max;
  if (strategy.lr_window_factor > 0 && last_lr) {
    config.lr_min = std::max(search.lr_min, *last_lr / strategy.lr_window_factor);
    config.lr_max = std::min(search.lr_max, *last_lr * strategy.lr_window_factor);
  }
  // The paper's choice: LCB with kappa = 1e6 is pure uncertainty sampling; the winner is then chosen
  // among the observations, not at the acquisition's optimum. (Expected improvement, and choosing by
  // the GP's posterior mean, did worse on the benchmark's suite.)
  config.acquisition = numerics::Acquisition::lower_confidence_bound;
  config.kappa = 1e6;
  return config;
}

std::string format_reasons(const std::vector<ProbeRecord>& probes) {
  std::string reasons;
  for (const ProbeRecord& probe : probes) {
    char lr_text[32];
    std::snprintf(lr_text, sizeof lr_text, "%.3g", probe.lr);
    reasons += std::string(reasons.empty() ? "" : "; ") + "lr " + lr_text + ": " + probe.reason;
  }
  return reasons;
}

}  // namespace

long steps_run(const LaunchRequest& request, const LaunchOutcome& outcome) {
  if (outcome.status == OutcomeStatus::succeeded || outcome.train.empty()) {
    return outcome.status == OutcomeStatus::succeeded ? request.steps : 0;
  }
  return std::clamp(std::lround(outcome.train.back().step), 0L, request.steps);
}

const char* to_string(LaunchKind kind) {
  switch (kind) {
    case LaunchKind::warmup: return "warmup";
    case LaunchKind::probe: return "probe";
    case LaunchKind::stage: return "stage";
  }
  return "?";
}

const char* to_string(OutcomeStatus status) {
  switch (status) {
    case OutcomeStatus::succeeded: return "succeeded";
    case OutcomeStatus::failed: return "failed";
    case OutcomeStatus::diverged: return "diverged";
  }
  return "?";
}

const char* to_string(ProbeStatus status) {
  switch (status) {
    case ProbeStatus::pending: return "pending";
    case ProbeStatus::succeeded: return "ok";
    case ProbeStatus::failed: return "failed";
    case ProbeStatus::diverged: return "diverged";
  }
  return "?";
}

std::string LaunchRequest::id() const {
  char text[64];
  if (kind == LaunchKind::warmup) {
    std::snprintf(text, sizeof text, "warmup");
  } else if (kind == LaunchKind::probe) {
    std::snprintf(text, sizeof text, "stage-%03d-probe-%02d", stage, probe);
  } else {
    std::snprintf(text, sizeof text, "stage-%03d", stage);
  }
  std::string name = text;
  if (attempt > 0) name += "-retry-" + std::to_string(attempt);
  return name;
}

struct AutoLrsSearch::StageSearch {
  explicit StageSearch(numerics::BayesOpt stage_optimizer) : optimizer(std::move(stage_optimizer)) {}

  numerics::BayesOpt optimizer;
  int probes_issued = 0;
  std::optional<bool> objective_from_val;  ///< fixed by the stage's first successful probe
};

AutoLrsSearch::AutoLrsSearch(const spec::JobSpec& job) : m_job(job), m_strategy(strategy_for(job.search)) {
  if (m_job.warmup.steps > 0) {
    m_record.warmup.emplace();
    m_record.warmup->lr = m_job.warmup.lr;
    m_record.warmup->steps = m_job.warmup.steps;
    m_main_launch_due = true;
  } else {
    begin_next_stage();
  }
}

AutoLrsSearch::~AutoLrsSearch() = default;

bool AutoLrsSearch::finished() const {
  return !m_failure && !m_main_launch_due && !m_stage && m_outstanding.empty() &&
         m_record.model_steps >= m_job.total_steps;
}

void AutoLrsSearch::begin_next_stage() {
  m_stage.reset();
  const long remaining = m_job.total_steps - m_record.model_steps;
  if (remaining <= 0) return;
  StageRecord stage;
  stage.index = static_cast<int>(m_record.stages.size());
  stage.start_step = m_record.model_steps;
  stage.steps = stage_steps(m_job.search, stage.index, remaining);
  stage.probe_steps = probe_steps(m_job.search, stage.steps);
  if (stage.probe_steps < min_forecast_points) {
    // Too short to forecast from: train it at the last chosen LR (or the bounds' geometric mean).
    stage.probe_steps = 0;
    stage.lr = m_last_lr.value_or(std::sqrt(m_job.search.lr_min * m_job.search.lr_max));
    m_record.stages.push_back(std::move(stage));
    m_main_launch_due = true;
    m_main_attempt = 0;
    return;
  }
  const std::uint64_t stage_seed = mix_seed(m_job.seed ^ mix_seed(static_cast<std::uint64_t>(stage.index) + 1));
  m_stage = std::make_unique<StageSearch>(
      numerics::BayesOpt(bayes_opt_config(m_job.search, m_strategy, m_last_lr), stage_seed));
  m_record.stages.push_back(std::move(stage));
}

std::vector<LaunchRequest> AutoLrsSearch::next_launches(int free_slots) {
  std::vector<LaunchRequest> launches;
  if (m_failure || free_slots <= 0) return launches;
  if (m_main_launch_due) {
    if (m_outstanding.empty()) {
      launches.push_back(main_launch_request());
      if (launches.back().kind == LaunchKind::warmup) {
        ++m_record.warmup->attempts;
      } else {
        ++m_record.stages.back().attempts;
      }
    }
  } else if (m_stage) {
    StageRecord& stage = m_record.stages.back();
    const int remaining = m_job.search.probes_per_stage - m_stage->probes_issued;
    const int count = std::min(free_slots, remaining);
    if (count <= 0) return launches;
    // Probes still running elsewhere are pending: the new proposals keep away from them.
    std::vector<double> pending;
    for (const LaunchRequest& request : m_outstanding) {
      if (request.kind == LaunchKind::probe) pending.push_back(request.lr);
    }
    const std::vector<double> lrs = m_stage->optimizer.ask_batch(count, pending);
    for (double lr : lrs) {
      LaunchRequest request;
      request.kind = LaunchKind::probe;
      request.stage = stage.index;
      request.probe = m_stage->probes_issued++;
      request.lr = lr;
      request.steps = stage.probe_steps;
      request.start_step = stage.start_step;
      ProbeRecord& probe = stage.probes.emplace_back();
      probe.index = request.probe;
      probe.lr = lr;
      probe.steps = request.steps;
      launches.push_back(request);
    }
  }
  m_outstanding.insert(m_outstanding.end(), launches.begin(), launches.end());
  return launches;
}

LaunchRequest AutoLrsSearch::main_launch_request() const {
  LaunchRequest request;
  request.attempt = m_main_attempt;
  if (m_record.warmup && !m_record.warmup->completed) {
    request.kind = LaunchKind::warmup;
    request.lr = m_record.warmup->lr;
    request.steps = m_record.warmup->steps;
    request.start_step = 0;
    return request;
  }
  const StageRecord& stage = m_record.stages.back();
  request.kind = LaunchKind::stage;
  request.stage = stage.index;
  request.lr = *stage.lr;
  request.steps = stage.steps;
  request.start_step = stage.start_step;
  if (m_strategy.continue_from_winner && stage.winner_probe >= 0 && stage.probe_steps < stage.steps) {
    // The winning probe already trained the stage's first τ′ steps at this LR: carry on from there.
    request.from_probe = stage.winner_probe;
    request.start_step += stage.probe_steps;
    request.steps -= stage.probe_steps;
  }
  return request;
}

void AutoLrsSearch::record(const LaunchRequest& request, const LaunchOutcome& outcome) {
  const auto pending = std::find(m_outstanding.begin(), m_outstanding.end(), request);
  if (pending == m_outstanding.end()) throw std::logic_error("record: launch " + request.id() + " is not outstanding");
  m_outstanding.erase(pending);
  if (request.kind == LaunchKind::probe) {
    m_record.probe_steps += steps_run(request, outcome);
    record_probe(request, outcome);
  } else {
    record_main(request, outcome);
  }
}

bool AutoLrsSearch::use_val_objective(const StageRecord& stage) const {
  if (!m_job.trainer.val_loss) return false;
  switch (m_job.search.objective) {
    case spec::Objective::train_loss: return false;
    case spec::Objective::val_loss: return true;
    case spec::Objective::automatic:
      // The paper: train loss while τ grows, val loss once τ has reached its maximum.
      return stage_steps(m_job.search, stage.index, LONG_MAX) >= m_job.search.max_stage_steps;
  }
  return false;
}

void AutoLrsSearch::record_probe(const LaunchRequest& request, const LaunchOutcome& outcome) {
  StageRecord& stage = m_record.stages.at(static_cast<size_t>(request.stage));
  ProbeRecord& probe = stage.probes.at(static_cast<size_t>(request.probe));
  numerics::BayesOpt& optimizer = m_stage->optimizer;
  probe.reason = outcome.reason;
  if (outcome.status != OutcomeStatus::succeeded) {
    probe.status = outcome.status == OutcomeStatus::diverged ? ProbeStatus::diverged : ProbeStatus::failed;
    optimizer.tell_failure(request.lr);
  } else {
    // The stage's objective is fixed by its first successful probe, so forecasts stay comparable; a
    // later probe with too few val losses falls back to its train series.
    if (!m_stage->objective_from_val) {
      m_stage->objective_from_val =
          use_val_objective(stage) && outcome.val.size() >= static_cast<size_t>(min_forecast_points);
    }
    const bool from_val =
        *m_stage->objective_from_val && outcome.val.size() >= static_cast<size_t>(min_forecast_points);
    const std::vector<LossPoint>& series = from_val ? outcome.val : outcome.train;
    std::vector<double> steps, losses;
    for (const LossPoint& point : series) {
      steps.push_back(point.step);
      losses.push_back(point.loss);
    }
    const numerics::Forecast forecast = numerics::forecast_loss(
        steps, losses, static_cast<double>(stage.steps), from_val ? numerics::SeriesKind::val : numerics::SeriesKind::train);
    probe.forecast = forecast;
    probe.forecast_from_val = from_val;
    switch (forecast.status) {
      case numerics::ForecastStatus::ok:
        probe.status = ProbeStatus::succeeded;
        optimizer.tell(request.lr, forecast.prediction, forecast.prediction_std * forecast.prediction_std);
        break;
      case numerics::ForecastStatus::diverged:
        if (std::all_of(losses.begin(), losses.end(), [](double loss) { return std::isfinite(loss); })) {
          // A finite series that rises: a poor LR, not a broken launch. Its forecast (the level it rose
          // to, the median of its last fifth) is observed like any other, so a stage whose probes all
          // rise a little (a converged model) still picks its least bad LR instead of failing the run.
          probe.status = ProbeStatus::succeeded;
          probe.reason = "loss rose";
          optimizer.tell(request.lr, forecast.prediction, forecast.prediction_std * forecast.prediction_std);
          break;
        }
        probe.status = ProbeStatus::diverged;
        probe.reason = "non-finite loss";
        optimizer.tell_failure(request.lr);
        break;
      case numerics::ForecastStatus::insufficient:
        probe.status = ProbeStatus::failed;
        probe.reason = "fewer than 3 loss points to forecast from";
        optimizer.tell_failure(request.lr);
        break;
    }
  }
  const bool all_recorded = m_stage->probes_issued == m_job.search.probes_per_stage &&
                            std::none_of(stage.probes.begin(), stage.probes.end(),
                                         [](const ProbeRecord& p) { return p.status == ProbeStatus::pending; });
  if (all_recorded) choose_stage_lr();
}

std::optional<int> AutoLrsSearch::winning_probe(const StageRecord& stage) const {
  const ProbeRecord* best = nullptr;
  for (const ProbeRecord& probe : stage.probes) {
    if (probe.status != ProbeStatus::succeeded) continue;
    if (!best || probe.forecast->prediction < best->forecast->prediction) best = &probe;
  }
  if (!best) return std::nullopt;
  return best->index;
}

void AutoLrsSearch::choose_stage_lr() {
  StageRecord& stage = m_record.stages.back();
  const std::optional<int> winner = winning_probe(stage);
  if (!winner) {
    m_failure = "stage " + std::to_string(stage.index) + ": every probe failed (" + format_reasons(stage.probes) + ")";
    return;
  }
  stage.winner_probe = *winner;
  stage.lr = stage.probes[static_cast<size_t>(*winner)].lr;
  stage.posterior = m_stage->optimizer.posterior(64);
  m_stage.reset();
  m_main_launch_due = true;
  m_main_attempt = 0;
}

void AutoLrsSearch::record_main(const LaunchRequest& request, const LaunchOutcome& outcome) {
  switch (record_main_launch(m_record, request, outcome, m_job.trainer.max_retries, m_reference_loss, m_failure)) {
    case MainLaunchVerdict::retry:
      ++m_main_attempt;
      return;
    case MainLaunchVerdict::failed:
      m_main_launch_due = false;
      return;
    case MainLaunchVerdict::completed:
      if (request.from_probe >= 0) {
        // The winning probe's steps were the stage's first steps: they count as training, not search.
        const long continued = m_record.stages.at(static_cast<size_t>(request.stage)).probe_steps;
        m_record.model_steps += continued;
        m_record.probe_steps -= continued;
      }
      if (request.kind == LaunchKind::stage) m_last_lr = request.lr;
      m_main_launch_due = false;
      begin_next_stage();
      return;
  }
}

}  // namespace autolrs::search
