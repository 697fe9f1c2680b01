#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "orchestrator/trainer_checks.hpp"

using namespace autolrs;
using orchestrator::LaunchReport;
using search::LossPoint;

namespace {

spec::JobSpec job_with_train_losses() {
  spec::JobSpec job;
  job.name = "test";
  job.trainer.command = {"train", "--lr", "{lr}"};
  job.trainer.loss = {"loss=(?P<loss>\\S+)"};
  job.total_steps = 1000;
  return job;
}

/// A succeeded search probe of stage 0 from the run's start, at `lr`, that printed `losses`.
LaunchReport probe_report(int probe, double lr, const std::vector<double>& losses) {
  LaunchReport report;
  report.request.kind = search::LaunchKind::probe;
  report.request.stage = 0;
  report.request.probe = probe;
  report.request.lr = lr;
  report.request.steps = static_cast<long>(losses.size());
  report.outcome.status = search::OutcomeStatus::succeeded;
  for (size_t i = 0; i < losses.size(); ++i) report.outcome.train.push_back({static_cast<double>(i + 1), losses[i]});
  return report;
}

/// 50 standard normal draws from a fixed seed (a 64-bit LCG, Box–Muller).
std::vector<double> minibatch_noise() {
  std::uint64_t state = 12345;
  const auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(state >> 11) + 0.5) / 9007199254740992.0;
  };
  std::vector<double> noise;
  while (noise.size() < 50) {
    const double radius = std::sqrt(-2 * std::log(uniform())), angle = 2 * M_PI * uniform();
    noise.push_back(radius * std::cos(angle));
    noise.push_back(radius * std::sin(angle));
  }
  return noise;
}

}  // namespace

TEST_CASE("orchestrator::check_latest_launch stops a run whose probes at LRs 100x apart print the same clear fall") {
  const std::vector<double> noise = minibatch_noise();
  std::vector<double> losses;
  for (size_t i = 0; i < noise.size(); ++i) losses.push_back(10 - 0.1 * static_cast<double>(i) + 0.05 * noise[i]);
  const std::vector<LaunchReport> reports = {probe_report(0, 1e-4, losses), probe_report(1, 1e-2, losses)};
  const std::vector<orchestrator::TrainerFinding> findings = orchestrator::check_latest_launch(job_with_train_losses(), reports);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].stop);
  CHECK(findings[0].message.starts_with("the trainer does not seem to use {lr}: stage-000-probe-00 at lr 0.0001 and "
                                        "stage-000-probe-01 at lr 0.01"));
}

TEST_CASE("orchestrator::check_latest_launch does not take a chance fall of shared minibatch noise for an ignored {lr}") {
  // Two probes from one checkpoint see the same minibatches: their losses share the noise (sd 1 on a
  // level of 34) and differ by a little, as 50-step probes of the simulator's small-batch task do.
  const std::vector<double> noise = minibatch_noise();
  std::vector<double> a, b;
  for (size_t i = 0; i < noise.size(); ++i) {
    a.push_back(34 - 0.04 * static_cast<double>(i) + noise[i]);
    b.push_back(a.back() + 0.075);
  }
  // The fall from the first fifth to the last is 2.9-6 standard errors of the difference: clear to
  // the old test (4 standard errors of one mean), within chance for shared noise.
  const double fall = (std::accumulate(a.begin(), a.begin() + 10, 0.0) - std::accumulate(a.end() - 10, a.end(), 0.0)) / 10;
  std::vector<double> steps;
  for (size_t i = 1; i < a.size(); ++i) steps.push_back(std::abs(a[i] - a[i - 1]));
  std::nth_element(steps.begin(), steps.begin() + static_cast<long>(steps.size() / 2), steps.end());
  const double noise_sd = steps[steps.size() / 2] / (0.6745 * std::sqrt(2.0));
  REQUIRE(fall > 4 * noise_sd / std::sqrt(10.0));
  REQUIRE(fall < 6 * noise_sd * std::sqrt(2.0 / 10));
  const std::vector<LaunchReport> reports = {probe_report(6, 0.009579, a), probe_report(8, 0.0001384, b)};
  CHECK(orchestrator::check_latest_launch(job_with_train_losses(), reports).empty());
}
