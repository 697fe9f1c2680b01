#include "console/console_reporter.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "search/stage_plan.hpp"
#include "spec/input_error.hpp"

namespace autolrs::console {

namespace {

std::string format(const char* pattern, auto... values) {
  char text[512];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

/// The most of a failure reason a retry's line repeats: the line stays readable, the log has the rest.
constexpr std::size_t retry_reason_bytes = 40;

std::string loss_text(const std::optional<double>& loss) { return loss ? format("%.4g", *loss) : "-"; }

std::optional<double> last_loss(const std::vector<search::LossPoint>& series) {
  if (series.empty()) return std::nullopt;
  return series.back().loss;
}

/// The record of a succeeded probe (after its decay tail, if it has one); null for other launches.
const search::ProbeRecord* succeeded_probe(const search::LaunchRequest& request, const orchestrator::RunState& state) {
  if (request.kind != search::LaunchKind::probe) return nullptr;
  const search::ProbeRecord& probe =
      state.progress.stages.at(static_cast<size_t>(request.stage)).probes.at(static_cast<size_t>(request.probe));
  return probe.status == search::ProbeStatus::succeeded ? &probe : nullptr;
}

}  // namespace

std::optional<double> probe_forecast(const search::LaunchRequest& request, const orchestrator::RunState& state) {
  const search::ProbeRecord* probe = succeeded_probe(request, state);
  if (!probe || !probe->forecast) return std::nullopt;
  return probe->forecast->prediction;
}

std::optional<double> probe_end_loss(const search::LaunchRequest& request, const orchestrator::RunState& state) {
  const search::ProbeRecord* probe = succeeded_probe(request, state);
  if (!probe) return std::nullopt;
  return probe->end_loss;
}

std::string retry_text(const search::LaunchRequest& request, const orchestrator::RunState& state) {
  if (request.attempt == 0) return "";
  std::string text = format(" (retry %d", request.attempt);
  for (auto report = state.launches.rbegin(); report != state.launches.rend(); ++report) {
    const search::LaunchRequest& earlier = report->request;
    if (earlier.kind == request.kind && earlier.stage == request.stage && earlier.attempt == request.attempt - 1) {
      const std::string& reason = report->outcome.reason;
      text += ": " + spec::printable(std::string_view(reason).substr(0, reason.find('\n')), retry_reason_bytes);
      break;
    }
  }
  return text + ")";
}

std::string launch_label(const search::LaunchRequest& request, const orchestrator::RunState& state) {
  const int planned_stages = state.progress.planned_stages;
  const int stage_count = planned_stages > 0 ? planned_stages
                                             : search::planned_stage_count(state.job.search, state.job.total_steps - state.job.warmup.steps);
  switch (request.kind) {
    case search::LaunchKind::warmup: return format("[warmup]      train %ld steps", request.steps);
    case search::LaunchKind::probe:
      return format("[stage %d of %d] probe %d of %d%s", request.stage, stage_count, request.probe,
                    state.progress.stages.at(static_cast<size_t>(request.stage)).probe_count, request.decay_tail ? " decay" : "");
    case search::LaunchKind::stage: return format("[stage %d of %d] train %ld steps", request.stage, stage_count, request.steps);
  }
  return "?";
}

std::string launch_line(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  const search::LaunchRequest& request = report.request;
  const search::LaunchOutcome& outcome = report.outcome;
  std::string line = launch_label(request, state) + format("  lr=%.3e", request.lr);
  if (request.lr_end) line += format("->%.3e", *request.lr_end);
  line += retry_text(request, state);
  line += "  loss=" + loss_text(last_loss(outcome.train));
  if (!outcome.val.empty()) line += "  val=" + loss_text(last_loss(outcome.val));
  if (request.kind == search::LaunchKind::probe && outcome.status == search::OutcomeStatus::succeeded) {
    const search::ProbeRecord& probe = state.progress.stages.at(static_cast<size_t>(request.stage)).probes.at(static_cast<size_t>(request.probe));
    if (probe.judged_by == search::ProbeJudgement::end_loss) {
      line += format("  %s=%.4g%s", request.decay_tail ? "after decay" : "end", *probe.end_loss,
                     probe.end_loss_from_val ? " (val)" : "");
    } else if (!request.decay_tail && probe.status != search::ProbeStatus::failed &&
               probe.status != search::ProbeStatus::diverged && probe.forecast) {
      // Judged by it, or (awaiting its decay tail) not judged yet: the forecast says where it heads.
      line += format("  forecast=%.4g%s", probe.forecast->prediction, probe.forecast_from_val ? " (val)" : "");
    } else if (probe.status != search::ProbeStatus::succeeded || !probe.reason.empty()) {
      line += std::string("  ") + search::to_string(probe.status) + ": " + probe.reason;
    }
  }
  if (request.kind == search::LaunchKind::stage && request.attempt == 0 && request.stage >= 0 &&
      request.stage < static_cast<int>(state.progress.stages.size())) {
    const search::StageRecord& stage = state.progress.stages[static_cast<size_t>(request.stage)];
    if (search::decided_on_fewer_probes(stage)) {
      line += format("  (its LR chosen on %d of %d probes)", search::judged_probe_count(stage), stage.probe_count);
    }
    const std::optional<search::DecayChoice>& decay = state.progress.decay;
    if (request.from_probe >= 0 && decay) {
      line += "  (then a " + decay->shape + " decay";
      if (decay->anneal_gain) line += format(": decay tails removed up to %.1f%% of the loss", 100 * *decay->anneal_gain);
      line += ")";
    }
  }
  if (outcome.status != search::OutcomeStatus::succeeded) {
    line += std::string("  ") + search::to_string(outcome.status) + ": " + outcome.reason;
  }
  line += format("  (%.1f s)", report.wall_s);
  return line;
}

std::string run_result(const orchestrator::RunState& state) {
  const search::SearchRecord& progress = state.progress;
  const double overhead = progress.model_steps > 0 ? static_cast<double>(progress.probe_steps) / static_cast<double>(progress.model_steps) : 0;
  std::string text = format("autolrs: %s: %ld model steps + %ld probe steps (%.2f per training step) in %.1f s\n",
                            orchestrator::to_string(state.status), progress.model_steps, progress.probe_steps, overhead,
                            state.wall_time_s);
  if (state.failure) text += "autolrs: " + *state.failure + "\n";
  if (!state.final_checkpoint.empty()) text += "final checkpoint: " + state.final_checkpoint + "\n";
  return text;
}

void ConsoleReporter::on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  m_out << launch_line(report, state) << "\n" << std::flush;
}

void ConsoleReporter::on_warning(const std::string& message, const orchestrator::RunState&) {
  m_out << "autolrs: warning: " << message << "\n" << std::flush;
}

void ConsoleReporter::on_run_finished(const orchestrator::RunState& state) {
  const search::SearchRecord& progress = state.progress;
  m_out << "\n stage  start_step    steps         lr  probes ok  final loss    val loss\n";
  if (progress.warmup && progress.warmup->completed) {
    m_out << format(" %5s  %10d  %7ld  %9.3e  %9s  %10s  %10s\n", "warm", 0, progress.warmup->steps, progress.warmup->lr,
                    "-", loss_text(progress.warmup->final_loss).c_str(), loss_text(progress.warmup->final_val_loss).c_str());
  }
  for (const search::StageRecord& stage : progress.stages) {
    if (!stage.completed) continue;
    int succeeded = 0;
    for (const search::ProbeRecord& probe : stage.probes) succeeded += probe.status == search::ProbeStatus::succeeded;
    m_out << format(" %5d  %10ld  %7ld  %9.3e  %4d/%-4zu  %10s  %10s\n", stage.index, stage.start_step, stage.steps,
                    *stage.lr, succeeded, stage.probes.size(), loss_text(stage.final_loss).c_str(),
                    loss_text(stage.final_val_loss).c_str());
  }
  m_out << "\n" << run_result(state) << "outputs: " << state.job.run_dir << "/{report.html,summary.json,schedule.csv,losses.csv,logs/}\n" << std::flush;
}

}  // namespace autolrs::console
