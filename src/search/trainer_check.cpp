#include "search/trainer_check.hpp"

#include <algorithm>
#include <cmath>

#include "search/loss_series.hpp"
#include "search/stage_plan.hpp"
#include "spec/command_template.hpp"

namespace autolrs::search {

TrainerCheckPlan default_trainer_check_plan(const spec::JobSpec& job) {
  const double lr_high = std::sqrt(job.search.lr_min * job.search.lr_max);
  const long first_stage = stage_steps(job.search, 0, job.total_steps - job.warmup.steps);
  return TrainerCheckPlan{lr_high, std::max(lr_high / 10, job.search.lr_min), probe_steps(job.search, std::max(1L, first_stage))};
}

TrainerCheck::TrainerCheck(const TrainerCheckPlan& plan) : m_plan(plan) {
  m_record.planned_stages = 1;
  StageRecord& stage = m_record.stages.emplace_back();
  stage.steps = 2 * plan.steps;
  stage.probe_steps = plan.steps;
  stage.probe_count = 2;
}

std::vector<LaunchRequest> TrainerCheck::next_launches(int free_slots) {
  std::vector<LaunchRequest> launches;
  if (m_failure) return launches;
  StageRecord& stage = m_record.stages.front();
  for (; free_slots > 0 && m_issued < 2; --free_slots, ++m_issued) {
    const double lr = m_issued == 0 ? m_plan.lr_high : m_plan.lr_low;
    launches.push_back(LaunchRequest{LaunchKind::probe, 0, m_issued, 0, lr, m_plan.steps, 0});
    ProbeRecord& probe = stage.probes.emplace_back();
    probe.index = m_issued;
    probe.lr = lr;
    probe.steps = m_plan.steps;
  }
  // The continuation waits for both probes: the checkpoint check compares its first losses with the
  // start level of the launch from the start at the lower LR.
  if (free_slots > 0 && m_issued == 2 && m_recorded == 2) {
    LaunchRequest continuation{LaunchKind::stage, 0, -1, 0, m_plan.lr_low, m_plan.steps, m_plan.steps};
    continuation.from_probe = 0;
    launches.push_back(continuation);
    stage.winner_probe = 0;
    stage.lr = m_plan.lr_low;
    ++m_issued;
  }
  m_outstanding.insert(m_outstanding.end(), launches.begin(), launches.end());
  return launches;
}

void TrainerCheck::record(const LaunchRequest& request, const LaunchOutcome& outcome) {
  take_outstanding(m_outstanding, request);
  ++m_recorded;
  StageRecord& stage = m_record.stages.front();
  const bool succeeded = outcome.status == OutcomeStatus::succeeded;
  if (request.kind == LaunchKind::probe) {
    m_record.probe_steps += steps_run(request, outcome);
    ProbeRecord& probe = stage.probes.at(static_cast<size_t>(request.probe));
    probe.status = probe_status_of(outcome.status);
    probe.reason = outcome.reason;
  } else {
    m_record.model_steps += steps_run(request, outcome);
    stage.attempts = 1;
    stage.completed = succeeded;
    stage.final_loss = last_finite_loss(outcome.train);
    stage.final_val_loss = last_finite_loss(outcome.val);
  }
  if (!succeeded && !m_failure) {
    m_failure = request.id() + " (lr " + spec::format_number(request.lr) + ") " + to_string(outcome.status) + ": " + outcome.reason;
  }
}

bool TrainerCheck::finished() const { return m_recorded == 3; }

}  // namespace autolrs::search
