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
