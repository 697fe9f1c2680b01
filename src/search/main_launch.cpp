#include "search/main_launch.hpp"

namespace autolrs::search {

namespace {

template <typename Trained>
void mark_completed(Trained& trained, const LaunchOutcome& outcome) {
  trained.completed = true;
  trained.final_loss = last_finite_loss(outcome.train);
  trained.final_val_loss = last_finite_loss(outcome.val);
}

}  // namespace

LaunchRequest issue_main_launch(SearchRecord& record, int attempt, bool continue_from_winner) {
  LaunchRequest request;
  request.attempt = attempt;
  if (record.warmup && !record.warmup->completed) {
    request.kind = LaunchKind::warmup;
    request.lr = record.warmup->lr;
    request.steps = record.warmup->steps;
    ++record.warmup->attempts;
    return request;
  }
  StageRecord& stage = record.stages.back();
  ++stage.attempts;
  request.kind = LaunchKind::stage;
  request.stage = stage.index;
  request.lr = *stage.lr;
  request.lr_end = stage.lr_end;
  request.start_step = stage.start_step;
  request.steps = stage.steps;
  if (continue_from_winner && stage.winner_probe >= 0 && stage.probe_steps < stage.steps) {
    // The winning probe already trained the stage's first τ′ steps at this LR: carry on from there.
    request.from_probe = stage.winner_probe;
    request.start_step += stage.probe_steps;
    request.steps -= stage.probe_steps;
  }
  return request;
}

MainLaunchVerdict record_main_launch(SearchRecord& record, const LaunchRequest& request, const LaunchOutcome& outcome,
                                     int max_retries, std::optional<double>& reference_loss,
                                     std::optional<std::string>& failure) {
  const bool is_warmup = request.kind == LaunchKind::warmup;
  if (outcome.status != OutcomeStatus::succeeded) {
    if (request.attempt < max_retries) {
      record.discarded_steps += steps_run(request, outcome);
      return MainLaunchVerdict::retry;
    }
    failure = (is_warmup ? std::string("warmup") : "stage " + std::to_string(request.stage)) + " failed after " +
              std::to_string(request.attempt + 1) + " attempt(s): " + outcome.reason;
    return MainLaunchVerdict::failed;
  }
  if (is_warmup) {
    mark_completed(*record.warmup, outcome);
  } else {
    mark_completed(record.stages.at(static_cast<size_t>(request.stage)), outcome);
  }
  record.model_steps += request.steps;
  if (const std::optional<double> level = final_loss_level(outcome.train)) reference_loss = level;
  return MainLaunchVerdict::completed;
}

}  // namespace autolrs::search
