#include "orchestrator/trainer_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "orchestrator/launch_command.hpp"
#include "search/loss_series.hpp"

namespace autolrs::orchestrator {

namespace {

using search::LaunchKind;
using search::LaunchRequest;
using search::LossPoint;
using search::OutcomeStatus;

/// LRs this far apart (or further) must train differently.
constexpr double distinct_lr_ratio = 10;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

bool all_finite(const std::vector<LossPoint>& series) {
  return std::all_of(series.begin(), series.end(), [](const LossPoint& point) { return std::isfinite(point.loss); });
}

double mean_of(std::vector<LossPoint>::const_iterator begin, std::vector<LossPoint>::const_iterator end) {
  double sum = 0;
  for (auto point = begin; point != end; ++point) sum += point->loss;
  return sum / static_cast<double>(end - begin);
}

/// The standard deviation of a series' minibatch noise, from its successive differences (median
/// absolute difference / (0.6745·√2): robust to the trend and to spikes); 0 for fewer than 3 points.
double noise_sd(const std::vector<LossPoint>& series) {
  if (series.size() < 3) return 0;
  std::vector<double> differences;
  for (size_t i = 1; i < series.size(); ++i) differences.push_back(std::abs(series[i].loss - series[i - 1].loss));
  const auto middle = differences.begin() + static_cast<long>(differences.size() / 2);
  std::nth_element(differences.begin(), middle, differences.end());
  return *middle / (0.6745 * std::sqrt(2.0));
}

/// How far a series fell from its first fifth to its last fifth, when that fall is clear: at least 1%
/// of its start and six standard errors of the difference of the two fifths' means; nullopt otherwise
/// (a flat or noisy series). Six, not fewer: probes from one checkpoint often see the same minibatches,
/// so a chance fall of the noise shows in every probe alike, and a fall of 2.9 standard errors in
/// 50-step probes at LRs 70x apart (the simulator's small-batch task, where neither LR moves the loss
/// in 50 steps) made the {lr} check stop a healthy run.
std::optional<double> clear_progress(const std::vector<LossPoint>& series) {
  if (series.size() < 5 || !all_finite(series)) return std::nullopt;
  const long fifth = static_cast<long>(series.size() / 5);
  const double first = mean_of(series.begin(), series.begin() + fifth);
  const double last = mean_of(series.end() - fifth, series.end());
  const double progress = first - last;
  if (progress <= 0.01 * std::abs(first)) return std::nullopt;
  const double standard_error = noise_sd(series) * std::sqrt(2.0 / static_cast<double>(fifth));
  if (progress <= 6 * standard_error) return std::nullopt;
  return progress;
}

/// Whether two launches' train losses are the same within noise: as many points, the first making
/// clear progress, and the mean point-by-point difference within a tenth of that progress. Two LRs
/// ten times apart that both make clear progress differ far more than that.
bool same_losses(const std::vector<LossPoint>& a, const std::vector<LossPoint>& b) {
  if (a.size() != b.size() || !all_finite(b)) return false;
  const std::optional<double> progress = clear_progress(a);
  if (!progress) return false;
  double difference = 0;
  for (size_t i = 0; i < a.size(); ++i) difference += std::abs(a[i].loss - b[i].loss);
  return difference / static_cast<double>(a.size()) <= 0.1 * *progress;
}

bool is_search_probe(const LaunchReport& report) {
  return report.request.kind == LaunchKind::probe && !report.request.decay_tail && report.request.from_probe < 0;
}

std::optional<TrainerFinding> lr_ignored(std::span<const LaunchReport> reports) {
  const LaunchReport& latest = reports.back();
  if (!is_search_probe(latest) || latest.outcome.status != OutcomeStatus::succeeded) return std::nullopt;
  for (size_t i = 0; i + 1 < reports.size(); ++i) {
    const LaunchReport& earlier = reports[i];
    if (!is_search_probe(earlier) || earlier.outcome.status != OutcomeStatus::succeeded) continue;
    if (earlier.request.stage != latest.request.stage || earlier.request.start_step != latest.request.start_step) continue;
    const double ratio = std::max(earlier.request.lr, latest.request.lr) / std::min(earlier.request.lr, latest.request.lr);
    if (!(ratio >= distinct_lr_ratio)) continue;
    if (!same_losses(earlier.outcome.train, latest.outcome.train)) continue;
    return TrainerFinding{true, "the trainer does not seem to use {lr}: " + earlier.request.id() + " at lr " +
                                    number(earlier.request.lr) + " and " + latest.request.id() + " at lr " +
                                    number(latest.request.lr) + " (" + number(ratio) +
                                    "x apart) printed the same train losses (see " + earlier.stdout_log + " and " +
                                    latest.stdout_log + "); trainer.command must pass {lr} to the trainer, and the "
                                    "trainer must train at it"};
  }
  return std::nullopt;
}

/// The finished launch whose checkpoint `request` starts from, among `earlier`; null when it starts
/// from scratch or the job's initial checkpoint.
const LaunchReport* producer_of(const LaunchRequest& request, std::span<const LaunchReport> earlier, size_t count) {
  for (size_t i = count; i-- > 0;) {
    const LaunchReport& report = earlier[i];
    if (report.outcome.status != OutcomeStatus::succeeded) continue;
    const LaunchRequest& made = report.request;
    if (request.from_probe >= 0) {
      if (made.kind == LaunchKind::probe && !made.decay_tail && made.stage == request.stage && made.probe == request.from_probe) {
        return &report;
      }
    } else if (request.start_step > 0 && made.kind != LaunchKind::probe && made.start_step + made.steps == request.start_step) {
      return &report;
    }
  }
  return nullptr;
}

std::optional<TrainerFinding> checkpoint_ignored(const spec::JobSpec& job, std::span<const LaunchReport> reports) {
  const LaunchReport& latest = reports.back();
  const LaunchRequest& request = latest.request;
  if (latest.outcome.train.empty() || !all_finite(latest.outcome.train)) return std::nullopt;
  const LaunchReport* producer = producer_of(request, reports, reports.size() - 1);
  if (!producer || !all_finite(producer->outcome.train)) return std::nullopt;
  // A higher LR may lift the loss at once; a checkpoint continued at its own LR or below may not.
  const double producer_end_lr = producer->request.lr_end.value_or(producer->request.lr);
  if (request.lr > producer_end_lr * (1 + 1e-9)) return std::nullopt;
  // The level of an untrained model: the first losses of the launch from the run's start at the
  // lowest LR (the least trained by the time it printed them).
  const LaunchReport* fresh = nullptr;
  for (const LaunchReport& report : reports.first(reports.size() - 1)) {
    if (report.request.start_step != 0 || report.request.from_probe >= 0 || report.outcome.train.empty() ||
        !all_finite(report.outcome.train)) {
      continue;
    }
    if (!fresh || report.request.lr < fresh->request.lr) fresh = &report;
  }
  if (!fresh) return std::nullopt;
  const std::vector<LossPoint>& made = producer->outcome.train;
  const double initial = *search::initial_loss_level(fresh->outcome.train, 3);
  const double ended = *search::final_loss_level(made, std::clamp<size_t>(made.size() / 5, 1, 20));
  const double gap = initial - ended;
  if (gap <= 0.05 * std::abs(initial) || gap <= 4 * noise_sd(made)) return std::nullopt;
  // Back (most of the way) to the untrained level, not merely above where the checkpoint ended.
  const double started = *search::initial_loss_level(latest.outcome.train, 3);
  if (started < initial - 0.2 * gap) return std::nullopt;
  const std::string from_scratch = job.initial_checkpoint ? "the initial checkpoint's level" : "the level the run started at";
  return TrainerFinding{
      true, "the trainer does not seem to load its checkpoint: " + request.id() + " continues from the checkpoint of " +
                producer->request.id() + ", which ended at loss " + number(ended) + ", but started at " + number(started) +
                ", back at " + from_scratch + " (" + number(initial) + "; see " + latest.stdout_log +
                "); trainer.resume_args must pass {load_checkpoint} and the trainer must restore its state from it"};
}

std::optional<TrainerFinding> val_loss_missing(const spec::JobSpec& job, std::span<const LaunchReport> reports) {
  const LaunchReport& latest = reports.back();
  if (!job.trainer.val_loss || latest.outcome.train.empty() || !latest.outcome.val.empty()) return std::nullopt;
  // Only the run's first launch with train losses: said once.
  for (size_t i = 0; i + 1 < reports.size(); ++i) {
    if (!reports[i].outcome.train.empty()) return std::nullopt;
  }
  const bool needed = job.search.objective == spec::Objective::val_loss;
  const std::string log = job.trainer.val_loss->stream == spec::StreamSelector::stderr_stream ? latest.stderr_log : latest.stdout_log;
  std::string message = "trainer.val_loss.pattern matched no line of " + latest.request.id() + ", which printed " +
                        std::to_string(latest.outcome.train.size()) + " train losses (see " + log +
                        "): check the pattern and trainer.val_loss.stream, or print val losses at least once per " +
                        std::to_string(latest.request.steps) + " steps";
  message += needed ? "; with search.objective \"val_loss\" the search has nothing to judge probes by"
                    : "; until val losses appear, probes are judged by train loss";
  return TrainerFinding{needed, message};
}

/// A failure the LR does not explain: the launch printed no train loss at all, or trained and then
/// broke the protocol (wrote no checkpoint).
bool fails_whatever_the_lr(const LaunchReport& report) {
  return report.outcome.status == OutcomeStatus::failed &&
         (report.outcome.train.empty() || report.outcome.reason.starts_with("no checkpoint written"));
}

std::optional<TrainerFinding> failing_alike(std::span<const LaunchReport> reports) {
  const LaunchReport& latest = reports.back();
  if (!fails_whatever_the_lr(latest)) return std::nullopt;
  std::vector<const LaunchReport*> stage_launches;
  for (const LaunchReport& report : reports) {
    if (report.request.stage == latest.request.stage) stage_launches.push_back(&report);
  }
  if (stage_launches.size() != 2) return std::nullopt;
  const LaunchReport& first = *stage_launches.front();
  if (!fails_whatever_the_lr(first) || failure_cause(first) != failure_cause(latest)) return std::nullopt;
  const std::string stage = latest.request.stage < 0 ? "warmup" : "stage " + std::to_string(latest.request.stage);
  std::string message = stage + ": its first two launches (" + first.request.id() + ", " + latest.request.id() +
                        ") failed the same way, so the others would too: " + latest.outcome.reason;
  if (!latest.log_tail.empty()) {
    message += "\n  the last lines of " + latest.failure_log + ":";
    for (const std::string& line : latest.log_tail) message += "\n    " + line;
  }
  return TrainerFinding{true, message};
}

}  // namespace

std::string failure_cause(const LaunchReport& report) {
  std::string cause = report.outcome.reason;
  for (const std::string& particular : {report.request.id(), checkpoint_name(report.request)}) {
    for (size_t at = cause.find(particular); at != std::string::npos; at = cause.find(particular, at)) {
      cause.replace(at, particular.size(), "<launch>");
    }
  }
  // What a launch that matched no loss line printed last is its own output, not the cause.
  if (cause.starts_with("no line matched")) cause = cause.substr(0, cause.find("; last: "));
  return cause;
}

std::vector<TrainerFinding> check_latest_launch(const spec::JobSpec& job, std::span<const LaunchReport> reports) {
  std::vector<TrainerFinding> findings;
  if (reports.empty()) return findings;
  for (std::optional<TrainerFinding> finding :
       {failing_alike(reports), lr_ignored(reports), checkpoint_ignored(job, reports), val_loss_missing(job, reports)}) {
    if (finding) findings.push_back(std::move(*finding));
  }
  return findings;
}

std::optional<std::string> first_stop(const spec::JobSpec& job, std::span<const LaunchReport> reports) {
  for (size_t count = 1; count <= reports.size(); ++count) {
    for (const TrainerFinding& finding : check_latest_launch(job, reports.first(count))) {
      if (finding.stop) return finding.message;
    }
  }
  return std::nullopt;
}

}  // namespace autolrs::orchestrator
