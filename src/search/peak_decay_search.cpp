#include "search/peak_decay_search.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "search/loss_series.hpp"
#include "search/main_launch.hpp"

namespace autolrs::search {

namespace {

/// Candidates per round: all of them, then half of the previous round's (rounded up) until two remain.
std::vector<int> successive_halving_sizes(int candidates) {
  std::vector<int> sizes = {candidates};
  while (sizes.back() > 2) sizes.push_back((sizes.back() + 1) / 2);
  return sizes;
}

std::vector<double> log_spaced(double low, double high, int count) {
  if (count == 1) return {std::sqrt(low * high)};
  std::vector<double> values;
  for (int i = 0; i < count; ++i) {
    values.push_back(low * std::pow(high / low, static_cast<double>(i) / static_cast<double>(count - 1)));
  }
  return values;
}

}  // namespace

long PeakDecaySearch::tail_steps(long horizon) {
  return std::max(1L, std::lround(tail_fraction * static_cast<double>(horizon)));
}

PeakDecaySearch::PeakDecaySearch(const spec::JobSpec& job)
    : m_job(job),
      // auto plans with cubic until the last round's tails choose (only the count of stages matters before).
      m_decay_shape(schedule_shape_from_name(job.search.decay_shape).value_or(ScheduleShape::cubic)),
      m_run_start(job.warmup.steps),
      m_budget(job.total_steps - job.warmup.steps),
      m_round_sizes(successive_halving_sizes(job.search.probes_per_stage)) {
  const int rounds = static_cast<int>(m_round_sizes.size());
  const long search_steps = std::lround(search_fraction * static_cast<double>(m_budget));
  std::vector<long> horizons;
  for (int round = 0; round < rounds; ++round) {
    const double factor = round == rounds - 1 ? final_horizon_factor : 1.0 / std::pow(2.0, rounds - 1 - round);
    const long horizon = std::lround(factor * static_cast<double>(search_steps));
    horizons.push_back(std::max(horizon, horizons.empty() ? 1L : horizons.back() + 1));
  }
  // The hold needs a step of its own after the last round's chains.
  const bool searchable = m_job.search.probes_per_stage > 1 && horizons.back() < 2 * search_steps &&
                          2 * search_steps <= m_budget;
  if (searchable) {
    m_horizons = horizons;
    m_hold_end = 2 * search_steps;
  }
  if (m_job.warmup.steps > 0) {
    m_record.warmup.emplace();
    m_record.warmup->lr = m_job.warmup.lr;
    m_record.warmup->steps = m_job.warmup.steps;
  }
  // Planned at the bounds' geometric mean until a winner is chosen (the count of stages is known now).
  plan_decay(std::sqrt(m_job.search.lr_min * m_job.search.lr_max));
  m_record.planned_stages = (searchable ? 1 : 0) + static_cast<int>(m_decay.size());
  if (!searchable) {
    // Nothing to search: the whole run decays from that mean (auto: cubic, with no tails to say otherwise).
    m_record.decay = DecayChoice{to_string(m_decay_shape), std::nullopt};
    m_main_launch_due = true;
    if (!m_record.warmup) begin_stage(0);
    return;
  }
  StageRecord& stage = m_record.stages.emplace_back();
  stage.index = 0;
  stage.start_step = m_run_start;
  stage.steps = m_hold_end;
  stage.probe_steps = m_horizons.back();
  stage.probe_count = m_job.search.probes_per_stage;
  stage.decay_tails = true;
  const std::vector<double> lrs = log_spaced(m_job.search.lr_min, m_job.search.lr_max, stage.probe_count);
  m_chain_levels.resize(static_cast<size_t>(stage.probe_count));
  m_chain_quarter_levels.resize(static_cast<size_t>(stage.probe_count));
  m_tail_levels.resize(static_cast<size_t>(stage.probe_count));
  for (int index = 0; index < stage.probe_count; ++index) {
    ProbeRecord& probe = stage.probes.emplace_back();
    probe.index = index;
    probe.lr = lrs[static_cast<size_t>(index)];
  }
  if (m_record.warmup) {
    m_main_launch_due = true;
  } else {
    start_round(0);
  }
}

bool PeakDecaySearch::finished() const {
  return !m_failure && !m_main_launch_due && m_due.empty() && m_outstanding.empty() &&
         m_record.model_steps >= m_job.total_steps;
}

void PeakDecaySearch::plan_decay(double peak_lr) {
  const long decay_steps = m_budget - m_hold_end;
  m_decay.clear();
  if (decay_steps <= 0) return;
  const long cut = std::max<long>(decay_stages, (decay_steps + m_job.search.max_stage_steps - 1) / m_job.search.max_stage_steps);
  // wsd's cooldown is the whole decay here: its stable part is the hold.
  const ScheduleSpec decay{m_decay_shape, peak_lr, static_cast<int>(cut), 1.0, m_job.trainer.takes_lr_ramps()};
  m_decay = schedule_segments(decay, decay_steps);
  for (ScheduleSegment& segment : m_decay) segment.start_step += m_hold_end;
}

void PeakDecaySearch::begin_stage(int index) {
  StageRecord& stage = m_record.stages.emplace_back();
  stage.index = index;
  const size_t segment = static_cast<size_t>(index - (m_horizons.empty() ? 0 : 1));
  stage.start_step = m_run_start + m_decay.at(segment).start_step;
  stage.steps = m_decay[segment].steps;
  stage.lr = m_decay[segment].lr * m_lr_scale;
  if (m_decay[segment].lr_end) stage.lr_end = *m_decay[segment].lr_end * m_lr_scale;
  m_main_launch_due = true;
  m_main_attempt = 0;
}

void PeakDecaySearch::start_round(int round) {
  m_round = round;
  StageRecord& stage = m_record.stages.front();
  if (round == 0) {
    m_in_round.clear();
    for (int index = 0; index < stage.probe_count; ++index) m_in_round.push_back(index);
  }
  const long from = round == 0 ? 0 : m_horizons[static_cast<size_t>(round - 1)];
  for (int index : m_in_round) {
    ProbeRecord& probe = stage.probes[static_cast<size_t>(index)];
    probe.status = ProbeStatus::pending;
    probe.rounds = round + 1;
    LaunchRequest chain;
    chain.kind = LaunchKind::probe;
    chain.stage = 0;
    chain.probe = index;
    chain.round = round;
    chain.lr = probe.lr;
    chain.steps = m_horizons[static_cast<size_t>(round)] - from;
    chain.start_step = m_run_start + from;
    if (round > 0) chain.from_probe = index;
    m_due.push_back(chain);
  }
}

void PeakDecaySearch::queue_tail(const LaunchRequest& chain) {
  LaunchRequest tail = chain;
  tail.decay_tail = true;
  tail.from_probe = chain.probe;
  tail.start_step = chain.start_step + chain.steps;
  tail.steps = tail_steps(tail.start_step - m_run_start);
  if (m_job.trainer.takes_lr_ramps()) {
    tail.lr_end = 0.0;
  } else {
    tail.lr = chain.lr / 10;
  }
  m_due.push_back(tail);
}

std::vector<LaunchRequest> PeakDecaySearch::next_launches(int free_slots) {
  std::vector<LaunchRequest> launches;
  if (m_failure || free_slots <= 0) return launches;
  if (m_main_launch_due) {
    if (!m_outstanding.empty()) return launches;
    // The hold continues the winner's chain, which trained stage 0's first H steps at its LR.
    launches.push_back(issue_main_launch(m_record, m_main_attempt, true));
  } else {
    const size_t count = std::min(m_due.size(), static_cast<size_t>(free_slots));
    launches.assign(m_due.begin(), m_due.begin() + static_cast<long>(count));
    m_due.erase(m_due.begin(), m_due.begin() + static_cast<long>(count));
  }
  m_outstanding.insert(m_outstanding.end(), launches.begin(), launches.end());
  return launches;
}

void PeakDecaySearch::record(const LaunchRequest& request, const LaunchOutcome& outcome) {
  take_outstanding(m_outstanding, request);
  if (request.kind != LaunchKind::probe) return record_main(request, outcome);
  m_record.probe_steps += steps_run(request, outcome);
  ProbeRecord& probe = m_record.stages.front().probes.at(static_cast<size_t>(request.probe));
  if (outcome.status != OutcomeStatus::succeeded) {
    eliminate(probe, outcome, request.decay_tail ? "decay tail: " : "");
  } else if (request.decay_tail) {
    judge(probe, outcome);
  } else {
    probe.steps = request.start_step + request.steps - m_run_start;
    m_chain_levels[static_cast<size_t>(request.probe)] = final_loss_level(outcome.train);
    m_chain_quarter_levels[static_cast<size_t>(request.probe)] =
        final_loss_level(outcome.train, std::max<size_t>(1, outcome.train.size() / 4));
    queue_tail(request);
  }
  end_round_when_done();
}

void PeakDecaySearch::eliminate(ProbeRecord& probe, const LaunchOutcome& outcome, const std::string& during) {
  probe.status = outcome.status == OutcomeStatus::diverged ? ProbeStatus::diverged : ProbeStatus::failed;
  probe.reason = during + outcome.reason;
  probe.judged_by = ProbeJudgement::none;
  probe.end_loss.reset();
}

void PeakDecaySearch::judge(ProbeRecord& probe, const LaunchOutcome& tail) {
  // A val loss is of the same held-out set for every candidate; without one, the train losses' trend
  // over the tail's last half at its end (their mean lags a tail still falling, which favoured the LR
  // whose loss had stopped falling: 2.06x the tuned cosine on the simulator's ill-conditioned task,
  // 0.83x with the trend), or their mean when there are too few for a line.
  const bool from_val =
      m_job.trainer.val_loss && m_job.search.objective != spec::Objective::train_loss && !tail.val.empty();
  const size_t last_half = std::max<size_t>(1, tail.train.size() / 2);
  const std::optional<double> train_level =
      trend_level_at_end(tail.train, last_half).value_or(final_loss_level(tail.train, last_half).value_or(NAN));
  m_tail_levels[static_cast<size_t>(probe.index)] = train_level;
  const double loss = from_val ? tail.val.back().loss : *train_level;
  if (!std::isfinite(loss)) {
    probe.status = ProbeStatus::diverged;
    probe.reason = "non-finite loss at the end of the decay tail";
    probe.judged_by = ProbeJudgement::none;
    probe.end_loss.reset();
    return;
  }
  probe.status = ProbeStatus::succeeded;
  probe.reason.clear();
  probe.end_loss = loss;
  probe.end_loss_from_val = from_val;
  probe.judged_by = ProbeJudgement::end_loss;
}

std::optional<int> PeakDecaySearch::best_candidate(const std::vector<int>& candidates) const {
  const StageRecord& stage = m_record.stages.front();
  std::optional<int> best;
  for (int index : candidates) {
    const ProbeRecord& probe = stage.probes[static_cast<size_t>(index)];
    if (probe.status != ProbeStatus::succeeded) continue;
    if (std::find(stage.abandoned_lrs.begin(), stage.abandoned_lrs.end(), probe.lr) != stage.abandoned_lrs.end()) continue;
    if (!best || *probe.end_loss < *stage.probes[static_cast<size_t>(*best)].end_loss) best = index;
  }
  return best;
}

void PeakDecaySearch::end_round_when_done() {
  const StageRecord& stage = m_record.stages.front();
  const bool busy = !m_due.empty() || std::any_of(m_in_round.begin(), m_in_round.end(), [&](int index) {
    return stage.probes[static_cast<size_t>(index)].status == ProbeStatus::pending;
  });
  if (busy || m_round < 0) return;
  std::vector<int> judged;
  for (int index : m_in_round) {
    if (stage.probes[static_cast<size_t>(index)].status == ProbeStatus::succeeded) judged.push_back(index);
  }
  if (judged.empty()) {
    std::vector<ProbeRecord> round;
    for (int index : m_in_round) round.push_back(stage.probes[static_cast<size_t>(index)]);
    m_failure = every_probe_failed(0, round);
    return;
  }
  std::stable_sort(judged.begin(), judged.end(), [&](int a, int b) {
    return *stage.probes[static_cast<size_t>(a)].end_loss < *stage.probes[static_cast<size_t>(b)].end_loss;
  });
  const size_t next_round = static_cast<size_t>(m_round) + 1;
  if (next_round == m_horizons.size()) {
    m_in_round = judged;
    return choose_winner();
  }
  // Candidates are indexed in LR order: the largest judged one goes on whatever its rank.
  const int largest = *std::max_element(judged.begin(), judged.end());
  judged.resize(std::min(judged.size(), static_cast<size_t>(m_round_sizes[next_round])));
  if (std::find(judged.begin(), judged.end(), largest) == judged.end()) judged.back() = largest;
  std::sort(judged.begin(), judged.end());  // launched in LR order, as in round 0
  m_in_round = judged;
  start_round(m_round + 1);
}

void PeakDecaySearch::choose_winner() {
  StageRecord& stage = m_record.stages.front();
  const int winner = *best_candidate(m_in_round);
  stage.winner_probe = winner;
  stage.lr = stage.probes[static_cast<size_t>(winner)].lr;
  m_reference_loss = m_chain_levels[static_cast<size_t>(winner)];
  m_round = -1;
  choose_decay_shape();
  plan_decay(*stage.lr);
  m_main_launch_due = true;
  m_main_attempt = 0;
}

void PeakDecaySearch::choose_decay_shape() {
  DecayChoice& choice = m_record.decay.emplace();
  if (m_job.search.decay_shape == "auto") {
    for (int index : m_in_round) {
      const std::optional<double>& chain = m_chain_quarter_levels[static_cast<size_t>(index)];
      const std::optional<double>& tail = m_tail_levels[static_cast<size_t>(index)];
      if (!chain || !tail || !std::isfinite(*tail) || *chain == 0) continue;
      // At most all of it: a tail's trend through losses near 0 can end below 0.
      const double gain = std::min(1.0, (*chain - *tail) / std::fabs(*chain));
      if (!choice.anneal_gain || gain > *choice.anneal_gain) choice.anneal_gain = gain;
    }
    // Without a measured gain (no train losses to compare) the cubic, as when noise bounds the loss.
    const bool progress_limited = choice.anneal_gain && *choice.anneal_gain < noise_limited_gain;
    m_decay_shape = progress_limited ? ScheduleShape::linear : ScheduleShape::cubic;
  }
  choice.shape = to_string(m_decay_shape);
}

bool PeakDecaySearch::fall_back_to_next_candidate(const LaunchRequest& request) {
  StageRecord& stage = m_record.stages.front();
  // Only to a smaller LR: a hold that diverged says its LR was too large, and the largest survivor
  // may be a finalist that never trained well.
  std::vector<int> smaller;
  for (int index : m_in_round) {
    if (stage.probes[static_cast<size_t>(index)].lr < request.lr) smaller.push_back(index);
  }
  stage.abandoned_lrs.push_back(request.lr);
  const std::optional<int> next = best_candidate(smaller);
  if (!next) {
    stage.abandoned_lrs.pop_back();
    return false;
  }
  stage.winner_probe = *next;
  stage.lr = stage.probes[static_cast<size_t>(*next)].lr;
  m_reference_loss = m_chain_levels[static_cast<size_t>(*next)];
  plan_decay(*stage.lr);
  return true;
}

void PeakDecaySearch::record_main(const LaunchRequest& request, const LaunchOutcome& outcome) {
  const bool may_retry = outcome.status != OutcomeStatus::succeeded && request.attempt < m_job.trainer.max_retries;
  if (may_retry && request.kind == LaunchKind::stage) {
    StageRecord& stage = m_record.stages.back();
    if (request.from_probe >= 0) {
      // The hold failed at the winner's LR: the other final-round candidate's chain takes over when its
      // LR is smaller, else the same chain is tried again.
      if (outcome.status == OutcomeStatus::diverged) fall_back_to_next_candidate(request);
    } else if (outcome.status == OutcomeStatus::diverged) {
      // A decay stage diverged from a checkpoint that trained well at higher LRs: a smaller step size
      // from here on, for this stage and every later one.
      stage.abandoned_lrs.push_back(request.lr);
      m_lr_scale /= 2;
      stage.lr = *stage.lr / 2;
      if (stage.lr_end) stage.lr_end = *stage.lr_end / 2;
    }
  }
  switch (record_main_launch(m_record, request, outcome, m_job.trainer.max_retries, m_reference_loss, m_failure)) {
    case MainLaunchVerdict::retry:
      ++m_main_attempt;
      return;
    case MainLaunchVerdict::failed:
      m_main_launch_due = false;
      return;
    case MainLaunchVerdict::completed:
      m_main_launch_due = false;
      if (request.kind == LaunchKind::warmup) {
        if (m_horizons.empty()) {
          begin_stage(0);
        } else {
          start_round(0);
        }
        return;
      }
      if (request.from_probe >= 0) {
        // The winner's chain was the stage's first H steps: they count as training, not search.
        const long continued = m_record.stages.front().probe_steps;
        m_record.model_steps += continued;
        m_record.probe_steps -= continued;
      }
      if (m_record.model_steps < m_job.total_steps) begin_stage(request.stage + 1);
      return;
  }
}

}  // namespace autolrs::search
