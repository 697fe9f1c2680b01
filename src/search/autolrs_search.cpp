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

/// The stage's BO settings: the spec's bounds.
numerics::BayesOptConfig bayes_opt_config(const spec::SearchSpec& search) {
  numerics::BayesOptConfig config;
  config.lr_min = search.lr_min;
  config.lr_max = search.lr_max;
  // The paper's choice: LCB with kappa = 1e6 is pure uncertainty sampling; the winner is then chosen
  // among the observations, not at the acquisition's optimum. (Expected improvement, and choosing by
  // the GP's posterior mean, did worse on the benchmark's suite.)
  config.acquisition = numerics::Acquisition::lower_confidence_bound;
  config.kappa = 1e6;
  return config;
}

}  // namespace

std::string every_probe_failed(int stage, const std::vector<ProbeRecord>& probes) {
  std::string reasons;
  for (const ProbeRecord& probe : probes) {
    char lr_text[32];
    std::snprintf(lr_text, sizeof lr_text, "%.3g", probe.lr);
    reasons += std::string(reasons.empty() ? "" : "; ") + "lr " + lr_text + ": " + probe.reason;
  }
  return "stage " + std::to_string(stage) + ": every probe failed (" + reasons + ")";
}

double lr_at_launch_step(const LaunchRequest& request, double launch_step) {
  if (!request.lr_end || request.steps <= 0) return request.lr;
  const double k = std::clamp(launch_step - 1, 0.0, static_cast<double>(request.steps - 1));
  return request.lr + (*request.lr_end - request.lr) * k / static_cast<double>(request.steps);
}

void take_outstanding(std::vector<LaunchRequest>& outstanding, const LaunchRequest& request) {
  const auto pending = std::find(outstanding.begin(), outstanding.end(), request);
  if (pending == outstanding.end()) throw std::logic_error("record: launch " + request.id() + " is not outstanding");
  outstanding.erase(pending);
}

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
    const std::string round_suffix = round > 0 ? "-r" + std::to_string(round) : "";
    std::snprintf(text, sizeof text, "stage-%03d-probe-%02d%s%s", stage, probe, round_suffix.c_str(),
                  decay_tail ? "-decay" : "");
  } else {
    std::snprintf(text, sizeof text, "stage-%03d", stage);
  }
  std::string name = text;
  if (attempt > 0) name += "-retry-" + std::to_string(attempt);
  return name;
}

struct AutoLrsSearch::StageSearch {
  StageSearch(numerics::BayesOpt stage_optimizer, std::vector<double> design_lrs, int probes)
      : optimizer(std::move(stage_optimizer)), design(std::move(design_lrs)), probe_count(probes) {}

  numerics::BayesOpt optimizer;
  std::vector<double> design;  ///< the stage's probe LRs when fixed up front; empty: BO proposals
  int probe_count = 0;
  int probes_issued = 0;
  std::optional<bool> objective_from_val;  ///< fixed by the stage's first successful probe
  std::vector<LaunchRequest> tails_due;    ///< decay tails of finished probes, not yet launched
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
  std::vector<double> design;
  // The multiples follow a stage that was searched, not one too short to probe (trained at a guess).
  const bool after_a_search = std::any_of(m_record.stages.begin(), m_record.stages.end(),
                                          [](const StageRecord& searched) { return searched.winner_probe >= 0; });
  if (m_last_lr && after_a_search) {
    for (double multiple : m_strategy.later_stage_lr_multiples) {
      const double lr = std::clamp(*m_last_lr * multiple, m_job.search.lr_min, m_job.search.lr_max);
      if (std::find(design.begin(), design.end(), lr) == design.end()) design.push_back(lr);
    }
  }
  const int probe_count = design.empty() ? m_job.search.probes_per_stage : static_cast<int>(design.size());
  m_stage = std::make_unique<StageSearch>(
      numerics::BayesOpt(bayes_opt_config(m_job.search), stage_seed), std::move(design),
      probe_count);
  stage.probe_count = probe_count;
  stage.decay_tails = m_strategy.decay_factor > 0 && needs_decay_tails(stage);
  m_record.stages.push_back(std::move(stage));
}

std::vector<LaunchRequest> AutoLrsSearch::next_launches(int free_slots) {
  std::vector<LaunchRequest> launches;
  if (m_failure || free_slots <= 0) return launches;
  if (m_main_launch_due) {
    if (m_outstanding.empty()) {
      launches.push_back(issue_main_launch(m_record, m_main_attempt, m_strategy.continue_from_winner));
    }
  } else if (m_stage) {
    StageRecord& stage = m_record.stages.back();
    std::vector<LaunchRequest>& tails = m_stage->tails_due;
    while (!tails.empty() && static_cast<int>(launches.size()) < free_slots) {
      launches.push_back(tails.front());
      tails.erase(tails.begin());
    }
    const int remaining = m_stage->probe_count - m_stage->probes_issued;
    const int count = std::min(free_slots - static_cast<int>(launches.size()), remaining);
    std::vector<double> lrs;
    if (count > 0 && !m_stage->design.empty()) {
      const auto next = m_stage->design.begin() + m_stage->probes_issued;
      lrs.assign(next, next + count);
    } else if (count > 0) {
      // Probes not yet judged (running, or waiting for their decay tail) are pending: the new
      // proposals keep away from them.
      std::vector<double> pending;
      for (const ProbeRecord& probe : stage.probes) {
        if (probe.status == ProbeStatus::pending) pending.push_back(probe.lr);
      }
      lrs = m_stage->optimizer.ask_batch(count, pending);
    }
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

void AutoLrsSearch::record(const LaunchRequest& request, const LaunchOutcome& outcome) {
  take_outstanding(m_outstanding, request);
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
  if (request.decay_tail) return record_decay_tail(request, outcome);
  StageRecord& stage = m_record.stages.at(static_cast<size_t>(request.stage));
  ProbeRecord& probe = stage.probes.at(static_cast<size_t>(request.probe));
  probe.reason = outcome.reason;
  if (request.stage == 0 && (!m_first_stage_start || request.lr < m_first_stage_start->lr)) {
    // The loss level the first stage starts from: the mean of the first losses of its lowest-LR
    // probe, which moves least (one minibatch's loss alone is too noisy).
    if (const std::optional<double> level = initial_loss_level(outcome.train)) {
      m_first_stage_start = StartLevel{request.lr, *level};
    }
  }
  if (outcome.status != OutcomeStatus::succeeded) {
    probe.status = outcome.status == OutcomeStatus::diverged ? ProbeStatus::diverged : ProbeStatus::failed;
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
        steps, losses, static_cast<double>(stage.steps), from_val ? numerics::SeriesKind::val : numerics::SeriesKind::train,
        m_strategy.forecast_family);
    probe.forecast = forecast;
    probe.forecast_from_val = from_val;
    switch (forecast.status) {
      case numerics::ForecastStatus::ok:
        probe.status = ProbeStatus::succeeded;
        break;
      case numerics::ForecastStatus::diverged:
        if (std::all_of(losses.begin(), losses.end(), [](double loss) { return std::isfinite(loss); })) {
          // A finite series that rises: a poor LR, not a broken launch. Its forecast (the level it rose
          // to, the median of its last fifth) is observed like any other, so a stage whose probes all
          // rise a little (a converged model) still picks its least bad LR instead of failing the run.
          probe.status = ProbeStatus::succeeded;
          probe.reason = "loss rose";
          break;
        }
        probe.status = ProbeStatus::diverged;
        probe.reason = "non-finite loss";
        break;
      case numerics::ForecastStatus::insufficient:
        probe.status = ProbeStatus::failed;
        probe.reason = "fewer than 3 loss points to forecast from";
        break;
    }
  }
  if (probe.status == ProbeStatus::succeeded && m_strategy.decay_factor > 0) {
    if (needs_decay_tails(stage)) {
      // Judged at its decay tail's end: the probe stays pending until the tail is recorded.
      probe.status = ProbeStatus::pending;
      LaunchRequest tail;
      tail.kind = LaunchKind::probe;
      tail.stage = request.stage;
      tail.probe = request.probe;
      tail.decay_tail = true;
      tail.from_probe = request.probe;
      tail.lr = request.lr / m_strategy.decay_factor;
      tail.steps = decay_tail_steps(m_strategy, request.steps);
      tail.start_step = request.start_step + request.steps;
      m_stage->tails_due.push_back(tail);
      return;
    }
    judge_by_end_loss(probe, outcome);
  } else if (probe.status == ProbeStatus::succeeded) {
    m_stage->optimizer.tell(request.lr, probe.forecast->prediction,
                            probe.forecast->prediction_std * probe.forecast->prediction_std);
    probe.judged_by = ProbeJudgement::forecast;
  } else {
    m_stage->optimizer.tell_failure(request.lr);
  }
  choose_stage_lr_when_done();
}

void AutoLrsSearch::record_decay_tail(const LaunchRequest& request, const LaunchOutcome& outcome) {
  StageRecord& stage = m_record.stages.at(static_cast<size_t>(request.stage));
  ProbeRecord& probe = stage.probes.at(static_cast<size_t>(request.probe));
  if (outcome.status == OutcomeStatus::succeeded) {
    probe.status = ProbeStatus::succeeded;
    judge_by_end_loss(probe, outcome);
  } else {
    probe.status = outcome.status == OutcomeStatus::diverged ? ProbeStatus::diverged : ProbeStatus::failed;
    probe.reason = "decay tail: " + outcome.reason;
    m_stage->optimizer.tell_failure(probe.lr);
  }
  choose_stage_lr_when_done();
}

void AutoLrsSearch::judge_by_end_loss(ProbeRecord& probe, const LaunchOutcome& outcome) {
  // A val loss is of the same held-out set for every probe; without one, the mean train loss over the
  // launch's last quarter.
  const bool from_val =
      m_job.trainer.val_loss && m_job.search.objective != spec::Objective::train_loss && !outcome.val.empty();
  const double loss = from_val ? outcome.val.back().loss
                               : final_loss_level(outcome.train, std::max<size_t>(1, outcome.train.size() / 4))
                                     .value_or(std::nan(""));
  if (!std::isfinite(loss)) {
    probe.status = ProbeStatus::diverged;
    probe.reason = "non-finite loss at the end";
    m_stage->optimizer.tell_failure(probe.lr);
    return;
  }
  probe.end_loss = loss;
  probe.end_loss_from_val = from_val;
  probe.judged_by = ProbeJudgement::end_loss;
  m_stage->optimizer.tell(probe.lr, loss);
}

void AutoLrsSearch::choose_stage_lr_when_done() {
  const StageRecord& stage = m_record.stages.back();
  const bool all_recorded = m_stage->probes_issued == m_stage->probe_count && m_stage->tails_due.empty() &&
                            std::none_of(stage.probes.begin(), stage.probes.end(),
                                         [](const ProbeRecord& p) { return p.status == ProbeStatus::pending; });
  if (all_recorded) choose_stage_lr();
}

bool AutoLrsSearch::needs_decay_tails(const StageRecord& stage) const {
  // None in the run's last stage (no later decay), nor for a stage's only probe (nothing to compare).
  return stage.start_step + stage.steps < m_job.total_steps && m_stage->probe_count > 1;
}

std::optional<int> AutoLrsSearch::winning_probe(const StageRecord& stage) const {
  const auto objective = [&](const ProbeRecord& probe) {
    return m_strategy.decay_factor > 0 ? *probe.end_loss : probe.forecast->prediction;
  };
  const ProbeRecord* best = nullptr;
  for (const ProbeRecord& probe : stage.probes) {
    if (probe.status != ProbeStatus::succeeded) continue;
    if (std::find(stage.abandoned_lrs.begin(), stage.abandoned_lrs.end(), probe.lr) != stage.abandoned_lrs.end()) continue;
    if (!best || objective(probe) < objective(*best)) best = &probe;
  }
  if (!best) return std::nullopt;
  return best->index;
}

void AutoLrsSearch::choose_stage_lr() {
  StageRecord& stage = m_record.stages.back();
  const std::optional<int> winner = winning_probe(stage);
  if (!winner) {
    m_failure = every_probe_failed(stage.index, stage.probes);
    return;
  }
  stage.winner_probe = *winner;
  stage.lr = stage.probes[static_cast<size_t>(*winner)].lr;
  // The GP is shown only where it chose the probes' LRs: a stage that tried fixed multiples of the
  // last LR was not decided by it, and a GP over its few points would suggest otherwise.
  if (m_stage->design.empty()) stage.posterior = m_stage->optimizer.posterior(64);
  m_stage.reset();
  m_main_launch_due = true;
  m_main_attempt = 0;
}

bool AutoLrsSearch::fall_back_from_lr(const LaunchRequest& request) {
  StageRecord& stage = m_record.stages.at(static_cast<size_t>(request.stage));
  if (stage.winner_probe < 0) return false;
  stage.abandoned_lrs.push_back(request.lr);
  const std::optional<int> next = winning_probe(stage);
  if (!next) {
    stage.abandoned_lrs.pop_back();  // no other LR: the stage goes on (or fails) at this one
    return false;
  }
  stage.winner_probe = *next;
  stage.lr = stage.probes[static_cast<size_t>(*next)].lr;
  return true;
}

bool AutoLrsSearch::made_no_progress(const LaunchRequest& request, const LaunchOutcome& outcome) const {
  if (!m_strategy.first_stage_must_progress || request.stage != 0 || outcome.status != OutcomeStatus::succeeded) {
    return false;
  }
  const std::optional<double> start =
      m_reference_loss ? m_reference_loss : m_first_stage_start ? std::optional(m_first_stage_start->level) : std::nullopt;
  const std::optional<double> end = final_loss_level(outcome.train);
  return start && end && *end >= *start;
}

void AutoLrsSearch::record_main(const LaunchRequest& request, const LaunchOutcome& outcome) {
  // A trainer that diverges at an LR does so again from the same checkpoint: the retry takes the
  // next best probe's LR instead (a short probe can look best at an LR the stage cannot sustain);
  // so does a first stage that made no progress (SearchStrategy::first_stage_must_progress).
  const bool lr_failed = outcome.status == OutcomeStatus::diverged || made_no_progress(request, outcome);
  if (request.kind == LaunchKind::stage && lr_failed && request.attempt < m_job.trainer.max_retries &&
      fall_back_from_lr(request)) {
    m_record.discarded_steps += steps_run(request, outcome);
    ++m_main_attempt;
    return;
  }
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
