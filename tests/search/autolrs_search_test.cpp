#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "search/autolrs_search.hpp"
#include "search/loss_series.hpp"
#include "search/search_json.hpp"
#include "search/stage_plan.hpp"

using namespace autolrs;
using search::AutoLrsSearch;
using search::LaunchKind;
using search::LaunchOutcome;
using search::LaunchRequest;
using search::OutcomeStatus;

namespace {

spec::JobSpec small_job() {
  spec::JobSpec job;
  job.name = "test";
  job.trainer.command = {"train"};
  job.trainer.loss = {"loss=(?P<loss>\\S+)"};
  job.search.lr_min = 1e-4;
  job.search.lr_max = 1.0;
  job.search.probes_per_stage = 4;
  job.search.first_stage_steps = 1000;
  job.search.max_stage_steps = 2000;
  job.search.probe_fraction = 0.1;
  job.search.preset = "paper";
  job.total_steps = 3000;
  job.seed = 7;
  return job;
}

/// A probe's loss curve: exponential decay whose floor is lowest at lr = 0.01 (in log distance).
double floor_for(double lr) { return 0.5 + 0.1 * std::pow(std::log10(lr) + 2.0, 2); }

LaunchOutcome exponential_outcome(const LaunchRequest& request) {
  LaunchOutcome outcome;
  outcome.status = OutcomeStatus::succeeded;
  const double floor = floor_for(request.lr);
  for (long step = 1; step <= request.steps; ++step) {
    outcome.train.push_back({static_cast<double>(step), floor + 2.0 * std::exp(-0.02 * static_cast<double>(step))});
  }
  return outcome;
}

LaunchOutcome failed_outcome(const std::string& reason) {
  LaunchOutcome outcome;
  outcome.status = OutcomeStatus::failed;
  outcome.reason = reason;
  return outcome;
}

/// Runs the search to its end, one launch at a time, answering every launch with `answer`.
template <typename Answer>
std::vector<LaunchRequest> drive(AutoLrsSearch& search, Answer answer) {
  std::vector<LaunchRequest> launches;
  for (int guard = 0; guard < 1000 && !search.finished() && !search.failure(); ++guard) {
    const std::vector<LaunchRequest> next = search.next_launches(1);
    REQUIRE(next.size() == 1);
    launches.push_back(next.front());
    search.record(next.front(), answer(next.front()));
  }
  return launches;
}

}  // namespace

TEST_CASE("search::stage_steps doubles from first_stage_steps up to max_stage_steps and cuts the last stage") {
  spec::SearchSpec search;
  search.first_stage_steps = 1000;
  search.max_stage_steps = 8000;
  std::vector<long> lengths;
  long remaining = 20000;
  for (int stage = 0; remaining > 0; ++stage) {
    lengths.push_back(search::stage_steps(search, stage, remaining));
    remaining -= lengths.back();
  }
  CHECK(lengths == std::vector<long>{1000, 2000, 4000, 8000, 5000});
  CHECK(search::planned_stage_count(search, 20000) == 5);
  CHECK(search::planned_stage_count(search, 0) == 0);
  CHECK(search::probe_steps(search, 8000) == 800);
  CHECK(search::probe_steps(search, 4) == 1);
}

TEST_CASE("search::trend_level_at_end is the least-squares line through the last finite losses, at the last step") {
  // A falling line: the fit is exact at its end.
  std::vector<search::LossPoint> series;
  for (int step = 1; step <= 40; ++step) series.push_back({static_cast<double>(step), 2.0 - 0.01 * step});
  CHECK(*search::trend_level_at_end(series, 10) == doctest::Approx(2.0 - 0.01 * 40));
  // The mean of the same 10 lags the line by half their span: 0.045.
  CHECK(*search::final_loss_level(series, 10) == doctest::Approx(2.0 - 0.01 * 35.5));
  // Exactly: losses 3, 1, 2 at steps 1, 2, 3 have slope -0.5 through (2, 2), so 1.5 at step 3.
  CHECK(*search::trend_level_at_end({{1, 3.0}, {2, 1.0}, {3, 2.0}}, 10) == doctest::Approx(1.5));
  // Non-finite losses are skipped, and the count is of finite ones.
  // Points (1, 3), (2, 1), (4, 2): slope −3/14 through their means (7/3, 2), so 2 − (3/14)(5/3) at step 4.
  CHECK(*search::trend_level_at_end({{1, 3.0}, {2, 1.0}, {3, NAN}, {4, 2.0}}, 3) == doctest::Approx(23.0 / 14));
  CHECK_FALSE(search::trend_level_at_end({{1, 1.0}}, 10));
  CHECK_FALSE(search::trend_level_at_end({{1, 1.0}, {1, 2.0}}, 10));  // no spread in the steps
  CHECK_FALSE(search::trend_level_at_end({}, 10));
}

TEST_CASE("search::final_loss_level is the mean of the last finite losses, and divergence is judged against it") {
  std::vector<search::LossPoint> series;
  for (int step = 1; step <= 30; ++step) series.push_back({static_cast<double>(step), step % 2 ? 0.01 : 0.07});
  series.push_back({31, std::nan("")});
  // The last 20 finite losses: ten of 0.01, ten of 0.07.
  CHECK(*search::final_loss_level(series) == doctest::Approx(0.04));
  CHECK(*search::final_loss_level(series, 3) == doctest::Approx((0.07 + 0.01 + 0.07) / 3));
  CHECK_FALSE(search::final_loss_level({{1, INFINITY}}));
  CHECK_FALSE(search::final_loss_level({}));

  // A converged model's minibatch losses swing tenfold: judged against the level, not the last
  // loss (0.01 here), the next stage's ordinary minibatch losses are no divergence.
  search::DivergenceMonitor monitor(10, search::final_loss_level(series));
  for (double loss : {0.07, 0.39, 0.41, 0.41, 0.07, 0.41, 0.41}) CHECK_FALSE(monitor.diverged_after(loss));
  CHECK(monitor.diverged_after(0.41));  // the third in a row above 10 x 0.04
  CHECK(monitor.diverged_after(0.01));  // and stays diverged
}

TEST_CASE("search::place_on_launch_axis puts losses at their step within the launch") {
  SUBCASE("global step numbers keep their spacing, the first one spacing after the start") {
    const auto placed = search::place_on_launch_axis({{1001.0, 3}, {1002.0, 2}, {1003.0, 1}}, 3);
    REQUIRE(placed.size() == 3);
    CHECK(placed[0].step == 1);
    CHECK(placed[2].step == 3);
    CHECK(placed[2].loss == 1);
  }
  SUBCASE("steps counting from 0 in each launch land on the same axis") {
    const auto placed = search::place_on_launch_axis({{0.0, 3}, {1.0, 2}}, 2);
    CHECK(placed[0].step == 1);
    CHECK(placed[1].step == 2);
  }
  SUBCASE("val losses every 100 steps sit at 100, 200, ...") {
    const auto placed = search::place_on_launch_axis({{1100.0, 3}, {1200.0, 2}, {1300.0, 1}}, 300);
    CHECK(placed[0].step == 100);
    CHECK(placed[2].step == 300);
  }
  SUBCASE("without step numbers losses are spread evenly over the launch") {
    const auto placed = search::place_on_launch_axis({{std::nullopt, 3}, {std::nullopt, 2}, {std::nullopt, 1}, {std::nullopt, 0}}, 100);
    CHECK(placed[0].step == 25);
    CHECK(placed[3].step == 100);
  }
  SUBCASE("without step numbers, a launch stopped early is taken as one loss per step") {
    const auto placed = search::place_on_launch_axis({{std::nullopt, 3}, {std::nullopt, 2}}, 100, false);
    CHECK(placed[1].step == 2);
  }
  SUBCASE("a step number going backwards is dropped") {
    const auto placed = search::place_on_launch_axis({{10.0, 3}, {11.0, 2}, {5.0, 9}, {12.0, 1}}, 3);
    REQUIRE(placed.size() == 3);
    CHECK(placed[2].loss == 1);
  }
}

TEST_CASE("search::DivergenceMonitor flags non-finite losses and three losses in a row above factor times the reference") {
  search::DivergenceMonitor with_reference(10, 2.0);
  CHECK_FALSE(with_reference.diverged_after(19.9));
  CHECK_FALSE(with_reference.diverged_after(20.1));
  CHECK_FALSE(with_reference.diverged_after(20.1));
  CHECK(with_reference.diverged_after(20.1));
  CHECK(with_reference.diverged_after(1.0));  // stays diverged

  search::DivergenceMonitor first_loss_is_reference(3, std::nullopt);
  CHECK_FALSE(first_loss_is_reference.diverged_after(1.0));
  CHECK_FALSE(first_loss_is_reference.diverged_after(2.9));
  CHECK_FALSE(first_loss_is_reference.diverged_after(3.1));
  CHECK_FALSE(first_loss_is_reference.diverged_after(3.1));
  CHECK(first_loss_is_reference.diverged_after(3.1));

  search::DivergenceMonitor nan_loss(10, 1.0);
  CHECK(nan_loss.diverged_after(std::numeric_limits<double>::quiet_NaN()));
}

TEST_CASE("search::AutoLrsSearch probes each stage, then trains it at the probe LR with the best forecast") {
  AutoLrsSearch search(small_job());
  const std::vector<LaunchRequest> launches = drive(search, exponential_outcome);
  REQUIRE(search.finished());
  REQUIRE(launches.size() == 10);  // 2 stages × (4 probes + 1 stage launch)

  for (int stage = 0; stage < 2; ++stage) {
    const long start = stage == 0 ? 0 : 1000;
    const long stage_length = stage == 0 ? 1000 : 2000;
    for (int probe = 0; probe < 4; ++probe) {
      const LaunchRequest& launch = launches[static_cast<size_t>(stage * 5 + probe)];
      CHECK(launch.kind == LaunchKind::probe);
      CHECK(launch.stage == stage);
      CHECK(launch.probe == probe);
      CHECK(launch.steps == stage_length / 10);
      CHECK(launch.start_step == start);
      CHECK(launch.lr >= 1e-4);
      CHECK(launch.lr <= 1.0);
      CHECK(launch.id() == "stage-00" + std::to_string(stage) + "-probe-0" + std::to_string(probe));
    }
    const LaunchRequest& main = launches[static_cast<size_t>(stage * 5 + 4)];
    CHECK(main.kind == LaunchKind::stage);
    CHECK(main.steps == stage_length);
    CHECK(main.start_step == start);
    // The winner is the probed LR whose forecast floor is lowest.
    double best_lr = 0, best_floor = 1e9;
    for (int probe = 0; probe < 4; ++probe) {
      const double lr = launches[static_cast<size_t>(stage * 5 + probe)].lr;
      if (floor_for(lr) < best_floor) best_floor = floor_for(lr), best_lr = lr;
    }
    CHECK(main.lr == best_lr);
    const search::StageRecord& record = search.progress().stages.at(static_cast<size_t>(stage));
    CHECK(record.lr == best_lr);
    CHECK(record.completed);
    CHECK(record.probe_count == 4);
    CHECK_FALSE(record.decay_tails);
    for (const search::ProbeRecord& probe : record.probes) {
      REQUIRE(probe.forecast);
      // The forecast at the stage's end is the curve's value there, close to its floor.
      CHECK(probe.forecast->prediction == doctest::Approx(floor_for(probe.lr)).epsilon(0.01));
      // ... and what the paper's search judged the probe by.
      CHECK(probe.judged_by == search::ProbeJudgement::forecast);
      CHECK(search::judged_value(probe) == probe.forecast->prediction);
    }
  }
  CHECK(search.progress().model_steps == 3000);
  CHECK(search.progress().probe_steps == 4 * 100 + 4 * 200);
  CHECK(search.next_launches(1).empty());
}

TEST_CASE("search::AutoLrsSearch decides identically for the same spec, seed and results") {
  AutoLrsSearch first(small_job());
  AutoLrsSearch second(small_job());
  CHECK(drive(first, exponential_outcome) == drive(second, exponential_outcome));

  spec::JobSpec other_seed = small_job();
  other_seed.seed = 8;
  AutoLrsSearch third(other_seed);
  AutoLrsSearch fourth(small_job());
  CHECK(drive(third, exponential_outcome) != drive(fourth, exponential_outcome));
}

TEST_CASE("search::AutoLrsSearch penalizes failed probes and goes on") {
  AutoLrsSearch search(small_job());
  int probe_launches = 0;
  drive(search, [&](const LaunchRequest& request) {
    if (request.kind == LaunchKind::probe && probe_launches++ % 2 == 0) return failed_outcome("exited with status 3");
    return exponential_outcome(request);
  });
  REQUIRE(search.finished());
  const search::StageRecord& stage = search.progress().stages.front();
  CHECK(stage.probes[0].status == search::ProbeStatus::failed);
  CHECK(stage.probes[0].reason == "exited with status 3");
  CHECK(stage.probes[1].status == search::ProbeStatus::succeeded);
  CHECK(stage.lr != stage.probes[0].lr);
}

TEST_CASE("search::AutoLrsSearch fails the run when every probe of a stage fails") {
  AutoLrsSearch search(small_job());
  drive(search, [](const LaunchRequest&) { return failed_outcome("no checkpoint written"); });
  REQUIRE(search.failure());
  CHECK(search.failure()->find("stage 0: every probe failed") == 0);
  CHECK(search.failure()->find("no checkpoint written") != std::string::npos);
  CHECK_FALSE(search.finished());
}

TEST_CASE("search::AutoLrsSearch retries a failed stage launch max_retries times, then fails") {
  spec::JobSpec job = small_job();
  job.trainer.max_retries = 2;
  AutoLrsSearch search(job);
  const std::vector<LaunchRequest> launches = drive(search, [](const LaunchRequest& request) {
    return request.kind == LaunchKind::stage ? failed_outcome("killed by signal 9") : exponential_outcome(request);
  });
  REQUIRE(launches.size() == 4 + 3);
  CHECK(launches[4].attempt == 0);
  CHECK(launches[5].attempt == 1);
  CHECK(launches[6].attempt == 2);
  CHECK(launches[6].id() == "stage-000-retry-2");
  CHECK(launches[6].lr == launches[4].lr);
  REQUIRE(search.failure());
  CHECK(*search.failure() == "stage 0 failed after 3 attempt(s): killed by signal 9");
}

TEST_CASE("search::AutoLrsSearch retries a diverged stage launch at the next best probe's LR") {
  spec::JobSpec job = small_job();
  job.trainer.max_retries = 2;
  LaunchOutcome diverged;
  diverged.status = OutcomeStatus::diverged;
  diverged.reason = "loss diverged (36.5)";
  // Forecasts rank the probes by their distance from lr 0.01 (floor_for).
  const auto by_forecast = [](const LaunchRequest& a, const LaunchRequest& b) {
    return floor_for(a.lr) < floor_for(b.lr);
  };
  SUBCASE("paper preset: from the stage's start checkpoint; the third LR trains the stage") {
    AutoLrsSearch search(job);
    int stage_launches = 0;
    const std::vector<LaunchRequest> launches = drive(search, [&](const LaunchRequest& request) {
      if (request.kind == LaunchKind::stage && request.stage == 0 && stage_launches++ < 2) return diverged;
      return exponential_outcome(request);
    });
    REQUIRE(search.finished());
    std::vector<LaunchRequest> probes(launches.begin(), launches.begin() + 4);
    std::sort(probes.begin(), probes.end(), by_forecast);
    for (size_t attempt = 0; attempt < 3; ++attempt) {
      CAPTURE(attempt);
      const LaunchRequest& stage = launches[4 + attempt];
      CHECK(stage.kind == LaunchKind::stage);
      CHECK(stage.attempt == static_cast<int>(attempt));
      CHECK(stage.lr == probes[attempt].lr);
      CHECK(stage.start_step == 0);
      CHECK(stage.from_probe == -1);
    }
    const search::StageRecord& first = search.progress().stages[0];
    CHECK(first.abandoned_lrs == std::vector<double>{probes[0].lr, probes[1].lr});
    CHECK(*first.lr == probes[2].lr);
    CHECK(first.winner_probe == probes[2].probe);
    CHECK(first.completed);
  }
  SUBCASE("no other probe succeeded: the retry keeps the LR") {
    AutoLrsSearch search(job);
    int probes = 0;
    const std::vector<LaunchRequest> launches = drive(search, [&](const LaunchRequest& request) {
      if (request.kind == LaunchKind::probe) return probes++ == 0 ? exponential_outcome(request) : failed_outcome("crashed");
      return diverged;
    });
    REQUIRE(launches.size() == 4 + 3);
    CHECK(launches[5].lr == launches[4].lr);
    CHECK(launches[6].lr == launches[4].lr);
    CHECK(search.progress().stages[0].abandoned_lrs.empty());
    REQUIRE(search.failure());
  }
}

TEST_CASE("search::AutoLrsSearch with the stagewise preset retries a first stage that made no progress at the next best probe's LR") {
  spec::JobSpec job = small_job();
  job.search.preset = "stagewise";
  job.trainer.max_retries = 1;
  const auto rising = [](const LaunchRequest& request) {
    LaunchOutcome outcome = exponential_outcome(request);
    // Above the probes' first loss (2.5 at the best LR): no progress since the stage began.
    for (search::LossPoint& point : outcome.train) point.loss = 2 + 0.01 * point.step;
    return outcome;
  };
  SUBCASE("a retry is left: the runner-up trains the stage from its own checkpoint") {
    AutoLrsSearch search(job);
    int stage_launches = 0;
    const std::vector<LaunchRequest> launches = drive(search, [&](const LaunchRequest& request) {
      if (request.kind == LaunchKind::stage && stage_launches++ == 0) return rising(request);
      return exponential_outcome(request);
    });
    REQUIRE(search.finished());
    const search::StageRecord& first = search.progress().stages[0];
    const LaunchRequest& abandoned = launches[8];
    const LaunchRequest& retried = launches[9];
    CHECK(abandoned.kind == LaunchKind::stage);
    CHECK(retried.kind == LaunchKind::stage);
    CHECK(retried.attempt == 1);
    CHECK(first.abandoned_lrs == std::vector<double>{abandoned.lr});
    CHECK(retried.lr != abandoned.lr);
    CHECK(retried.from_probe == first.winner_probe);
    CHECK(retried.lr == first.probes[static_cast<size_t>(first.winner_probe)].lr);
    CHECK(search.progress().discarded_steps == 900);
    CHECK(search.progress().model_steps == 3000);
  }
  SUBCASE("no retry left: the stage stands") {
    job.trainer.max_retries = 0;
    AutoLrsSearch search(job);
    const std::vector<LaunchRequest> launches = drive(search, [&](const LaunchRequest& request) {
      return request.kind == LaunchKind::stage ? rising(request) : exponential_outcome(request);
    });
    REQUIRE(search.finished());
    CHECK(search.progress().stages[0].abandoned_lrs.empty());
    CHECK(search.progress().discarded_steps == 0);
  }
  SUBCASE("the paper preset does not judge a stage by its loss") {
    job.search.preset = "paper";
    AutoLrsSearch search(job);
    const std::vector<LaunchRequest> launches = drive(search, [&](const LaunchRequest& request) {
      return request.kind == LaunchKind::stage ? rising(request) : exponential_outcome(request);
    });
    REQUIRE(search.finished());
    CHECK(launches.size() == 4 + 1 + 4 + 1);
  }
}

TEST_CASE("search::AutoLrsSearch runs the warmup first, at its LR, counting its steps") {
  spec::JobSpec job = small_job();
  job.warmup = {500, 0.003};
  job.total_steps = 1500;
  AutoLrsSearch search(job);
  const std::vector<LaunchRequest> launches = drive(search, exponential_outcome);
  REQUIRE(search.finished());
  CHECK(launches.front().kind == LaunchKind::warmup);
  CHECK(launches.front().lr == 0.003);
  CHECK(launches.front().steps == 500);
  CHECK(launches[1].start_step == 500);
  CHECK(launches.back().start_step == 500);
  CHECK(launches.back().steps == 1000);
  CHECK(search.progress().model_steps == 1500);
}

TEST_CASE("search::AutoLrsSearch hands out a stage's probes to several free slots at once, distinct") {
  spec::JobSpec job = small_job();
  job.search.probes_per_stage = 6;
  AutoLrsSearch search(job);
  const std::vector<LaunchRequest> batch = search.next_launches(4);
  REQUIRE(batch.size() == 4);
  for (size_t i = 0; i < batch.size(); ++i) {
    for (size_t j = i + 1; j < batch.size(); ++j) CHECK(batch[i].lr != batch[j].lr);
  }
  CHECK(search.next_launches(4).size() == 2);  // only 6 probes per stage
  CHECK(search.next_launches(4).empty());
  CHECK(search.outstanding().size() == 6);
  for (const LaunchRequest& request : std::vector<LaunchRequest>(search.outstanding())) search.record(request, exponential_outcome(request));
  const std::vector<LaunchRequest> main = search.next_launches(4);
  REQUIRE(main.size() == 1);
  CHECK(main.front().kind == LaunchKind::stage);
  CHECK(search.next_launches(3).empty());
}

TEST_CASE("search::AutoLrsSearch rejects an outcome for a launch it did not hand out") {
  AutoLrsSearch search(small_job());
  LaunchRequest stranger;
  stranger.kind = LaunchKind::probe;
  stranger.stage = 5;
  CHECK_THROWS_AS(search.record(stranger, exponential_outcome(stranger)), std::logic_error);
}

TEST_CASE("search::AutoLrsSearch forecasts the val loss once τ has reached its maximum, with objective auto") {
  spec::JobSpec job = small_job();
  job.trainer.val_loss = spec::LossPatternSpec{"val_loss=(?P<loss>\\S+)"};
  job.search.max_stage_steps = 1000;
  job.total_steps = 2000;
  AutoLrsSearch search(job);
  drive(search, [](const LaunchRequest& request) {
    LaunchOutcome outcome = exponential_outcome(request);
    for (long step = 10; step <= request.steps; step += 10) {
      outcome.val.push_back({static_cast<double>(step), 0.9 + floor_for(request.lr)});
    }
    return outcome;
  });
  REQUIRE(search.finished());
  for (const search::StageRecord& stage : search.progress().stages) {
    for (const search::ProbeRecord& probe : stage.probes) {
      CHECK(probe.forecast_from_val);
      CHECK(probe.forecast->prediction == doctest::Approx(0.9 + floor_for(probe.lr)).epsilon(0.01));
    }
  }
}

TEST_CASE("search::LaunchRequest and LaunchOutcome round-trip through the journal's JSON exactly") {
  LaunchRequest request{LaunchKind::probe, 3, 7, 0, 0.1234567890123456789, 800, 7000};
  CHECK(nlohmann::json::parse(nlohmann::json(request).dump()).get<LaunchRequest>() == request);

  LaunchOutcome outcome;
  outcome.status = OutcomeStatus::diverged;
  outcome.reason = "loss diverged (nan)";
  outcome.train = {{1, 0.1 + 0.2}, {2, std::numeric_limits<double>::quiet_NaN()}};
  outcome.val = {{100, 1.0 / 3.0}};
  const LaunchOutcome back = nlohmann::json::parse(nlohmann::json(outcome).dump()).get<LaunchOutcome>();
  CHECK(back.status == OutcomeStatus::diverged);
  CHECK(back.reason == outcome.reason);
  REQUIRE(back.train.size() == 2);
  CHECK(back.train[0].loss == 0.1 + 0.2);
  CHECK(std::isnan(back.train[1].loss));
  CHECK(back.val[0].loss == 1.0 / 3.0);
}

TEST_CASE("search::AutoLrsSearch with the stagewise preset judges probes after decay tails, then tries fixed multiples of the last LR") {
  spec::JobSpec job = small_job();
  job.search.preset = "stagewise";
  job.trainer.val_loss = spec::LossPatternSpec{"val_loss=(?P<loss>\\S+)"};
  // Train losses (so forecasts) favour lr 0.01 (floor_for); the val loss at a launch's end favours the
  // largest LR after a decay tail, and the smallest at the end of a last-stage probe.
  std::string crash_tail_of;
  const auto answer = [&](const LaunchRequest& request) {
    if (request.id() == crash_tail_of) return failed_outcome("crashed");
    LaunchOutcome outcome = exponential_outcome(request);
    const double probe_lr = request.decay_tail ? request.lr * 10 : request.lr;
    const double end_val = request.decay_tail ? 1 / probe_lr : probe_lr;
    outcome.val = {{static_cast<double>(request.steps), end_val}};
    return outcome;
  };
  SUBCASE("every launch succeeds") {
    AutoLrsSearch search(job);
    const std::vector<LaunchRequest> launches = drive(search, answer);
    REQUIRE(search.finished());
    // Stage 0 (τ 1000, τ′ 100): 4 probes, each followed by its tail; the stage; stage 1, the last
    // (τ 2000, τ′ 200): 3 probes without tails; the stage.
    REQUIRE(launches.size() == 8 + 1 + 3 + 1);
    const search::StageRecord& first = search.progress().stages[0];
    size_t largest = 0;
    for (size_t probe = 0; probe < 4; ++probe) {
      const LaunchRequest& launch = launches[2 * probe];
      const LaunchRequest& tail = launches[2 * probe + 1];
      CAPTURE(probe);
      CHECK_FALSE(launch.decay_tail);
      CHECK(tail.decay_tail);
      CHECK(tail.kind == LaunchKind::probe);
      CHECK(tail.probe == static_cast<int>(probe));
      CHECK(tail.from_probe == static_cast<int>(probe));
      CHECK(tail.lr == launch.lr / 10);
      CHECK(tail.steps == 25);
      CHECK(tail.start_step == 100);
      CHECK(tail.id() == "stage-000-probe-0" + std::to_string(probe) + "-decay");
      CHECK(*first.probes[probe].end_loss == doctest::Approx(1 / launch.lr));
      CHECK(first.probes[probe].end_loss_from_val);
      CHECK(first.probes[probe].judged_by == search::ProbeJudgement::end_loss);
      CHECK(search::judged_value(first.probes[probe]) == first.probes[probe].end_loss);
      if (launch.lr > launches[2 * largest].lr) largest = probe;
    }
    CHECK(first.winner_probe == static_cast<int>(largest));
    const LaunchRequest& first_stage = launches[8];
    CHECK(first_stage.kind == LaunchKind::stage);
    CHECK(first_stage.from_probe == static_cast<int>(largest));
    CHECK(first_stage.lr == launches[2 * largest].lr);
    CHECK(first_stage.start_step == 100);
    CHECK(first_stage.steps == 900);
    // The last stage tries the last LR, a third and a tenth of it, and its probes' own ends decide.
    const double last_lr = first_stage.lr;
    const std::vector<double> multiples = {1, 0.3, 0.1};
    for (size_t probe = 0; probe < 3; ++probe) {
      CHECK(launches[9 + probe].kind == LaunchKind::probe);
      CHECK_FALSE(launches[9 + probe].decay_tail);
      CHECK(launches[9 + probe].lr == std::clamp(last_lr * multiples[probe], job.search.lr_min, job.search.lr_max));
    }
    const search::StageRecord& last = search.progress().stages[1];
    // The search says that the first stage's probes have tails and the last stage's have none.
    CHECK(first.decay_tails);
    CHECK(first.probe_count == 4);
    CHECK_FALSE(last.decay_tails);
    CHECK(last.probe_count == 3);
    // The GP proposed stage 0's LRs, so its posterior is kept for the report; stage 1's were fixed.
    CHECK(first.posterior.size() == 64);
    CHECK(last.posterior.empty());
    CHECK(last.probes[2].judged_by == search::ProbeJudgement::end_loss);
    CHECK(last.winner_probe == 2);
    CHECK(*last.probes[2].end_loss == launches[11].lr);
    CHECK(launches[12].from_probe == 2);
    // Probe steps: 4 probes and tails less the winner's 100 steps; 3 probes less the winner's 200.
    CHECK(search.progress().probe_steps == (4 * 100 + 4 * 25 - 100) + (3 * 200 - 200));
    CHECK(search.progress().model_steps == 3000);
  }
  SUBCASE("a failed decay tail fails its probe, and the search goes on") {
    crash_tail_of = "stage-000-probe-00-decay";
    AutoLrsSearch search(job);
    drive(search, answer);
    REQUIRE(search.finished());
    const search::ProbeRecord& probe = search.progress().stages[0].probes[0];
    CHECK(probe.status == search::ProbeStatus::failed);
    CHECK(probe.reason == "decay tail: crashed");
    CHECK(search.progress().stages[0].winner_probe != 0);
  }
}

TEST_CASE("search::AutoLrsSearch with the stagewise preset clamps the LR multiples to the bounds and drops duplicates") {
  spec::JobSpec job = small_job();
  job.search.preset = "stagewise";
  job.search.lr_min = 0.5;  // every stage-0 probe is in [0.5, 1]: a tenth of the winner clamps to 0.5
  AutoLrsSearch search(job);
  const std::vector<LaunchRequest> launches = drive(search, exponential_outcome);
  REQUIRE(search.finished());
  const search::StageRecord& last = search.progress().stages[1];
  const double winner = *search.progress().stages[0].lr;
  // A third and a tenth of an LR ≤ 1 are below 0.5: both clamp to 0.5, kept once (or not at all
  // when the winner is 0.5 itself).
  std::vector<double> expected = {winner};
  if (winner != 0.5) expected.push_back(0.5);
  REQUIRE(last.probes.size() == expected.size());
  // The stage runs as many probes as remain after clamping and dropping duplicates, and says so.
  CHECK(last.probe_count == static_cast<int>(expected.size()));
  for (size_t probe = 0; probe < expected.size(); ++probe) CHECK(last.probes[probe].lr == doctest::Approx(expected[probe]));
}

TEST_CASE("search::AutoLrsSearch with the stagewise preset: a stage's only probe has no tail, and a first stage too short to probe leaves the next one a full search") {
  spec::JobSpec job = small_job();
  job.search.preset = "stagewise";
  job.search.lr_min = 0.05;
  // The lower the LR the lower the loss: every stage's smallest LR wins, down to lr_min.
  const auto lower_is_better = [](const LaunchRequest& request) {
    LaunchOutcome outcome;
    outcome.status = OutcomeStatus::succeeded;
    for (long step = 1; step <= request.steps; ++step) outcome.train.push_back({static_cast<double>(step), 1 + request.lr});
    return outcome;
  };
  SUBCASE("stages of 1000, 2000, 2000, 2000: the LR reaches lr_min, then one probe a stage, no tail") {
    job.total_steps = 7000;
    AutoLrsSearch search(job);
    const std::vector<LaunchRequest> launches = drive(search, lower_is_better);
    REQUIRE(search.finished());
    const auto& stages = search.progress().stages;
    REQUIRE(stages.size() == 4);
    CHECK(*stages[1].lr == 0.05);
    CHECK(stages[2].probes.size() == 1);
    CHECK(stages[2].probe_count == 1);
    CHECK_FALSE(stages[2].decay_tails);  // not the run's last stage, but its only probe has no tail
    CHECK(stages[1].decay_tails);
    CHECK(stages[2].probes[0].lr == 0.05);
    CHECK(stages[2].probes[0].end_loss.has_value());
    const auto tails_of = [&](int stage) {
      return std::count_if(launches.begin(), launches.end(),
                           [&](const LaunchRequest& launch) { return launch.decay_tail && launch.stage == stage; });
    };
    CHECK(tails_of(1) == static_cast<long>(stages[1].probes.size()));
    CHECK(tails_of(2) == 0);
  }
  SUBCASE("a first stage of 20 steps (τ′ 2) trains at a guess; the second searches the whole range") {
    job.search.first_stage_steps = 20;
    job.total_steps = 20 + 40 + 80;
    AutoLrsSearch search(job);
    drive(search, lower_is_better);
    REQUIRE(search.finished());
    const auto& stages = search.progress().stages;
    CHECK(stages[0].probes.empty());
    CHECK(stages[1].probes.size() == 4);  // probes_per_stage BO probes, not 3 multiples of the guess
  }
}

TEST_CASE("search::AutoLrsSearch with the stagewise preset on 3 slots keeps new probes away from probes awaiting their decay tail") {
  spec::JobSpec job = small_job();
  job.search.preset = "stagewise";
  job.search.probes_per_stage = 6;
  AutoLrsSearch search(job);
  std::vector<LaunchRequest> running;
  std::vector<double> first_stage_lrs;
  for (int guard = 0; guard < 200 && !search.finished() && !search.failure(); ++guard) {
    for (const LaunchRequest& launch : search.next_launches(3 - static_cast<int>(running.size()))) {
      running.push_back(launch);
      if (launch.stage == 0 && launch.kind == LaunchKind::probe && !launch.decay_tail) first_stage_lrs.push_back(launch.lr);
    }
    REQUIRE_FALSE(running.empty());
    // The newest launch finishes first, so probes wait for their tails while new probes are asked.
    const LaunchRequest done = running.back();
    running.pop_back();
    search.record(done, exponential_outcome(done));
  }
  REQUIRE(search.finished());
  REQUIRE(first_stage_lrs.size() == 6);
  for (size_t i = 0; i < first_stage_lrs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(std::abs(std::log(first_stage_lrs[i] / first_stage_lrs[j])) > 1e-3);
    }
  }
}

TEST_CASE("search::AutoLrsSearch keeps new probes away from the probes still running") {
  spec::JobSpec job = small_job();
  job.search.probes_per_stage = 6;
  AutoLrsSearch search(job);
  const std::vector<LaunchRequest> first = search.next_launches(2);
  REQUIRE(first.size() == 2);
  search.record(first[0], exponential_outcome(first[0]));  // first[1] is still running
  const std::vector<LaunchRequest> next = search.next_launches(1);
  REQUIRE(next.size() == 1);
  const double x_pending = std::log(first[1].lr), x_next = std::log(next[0].lr);
  CHECK(std::abs(x_next - x_pending) > 0.01 * std::log(1e4));
}

TEST_CASE("search::AutoLrsSearch keeps going when every probe's loss rises a little, picking the least bad") {
  AutoLrsSearch search(small_job());
  drive(search, [](const LaunchRequest& request) {
    LaunchOutcome outcome;
    outcome.status = OutcomeStatus::succeeded;
    const double slope = 0.01 * (1.0 + std::abs(std::log10(request.lr) + 2.0));  // least rise at lr 0.01
    for (long step = 1; step <= request.steps; ++step) {
      outcome.train.push_back({static_cast<double>(step), 0.1 + slope * static_cast<double>(step)});
    }
    return outcome;
  });
  REQUIRE_FALSE(search.failure());
  REQUIRE(search.finished());
  const search::StageRecord& stage = search.progress().stages.front();
  double least_rise_lr = 0, least_distance = 1e9;
  for (const search::ProbeRecord& probe : stage.probes) {
    CHECK(probe.status == search::ProbeStatus::succeeded);
    CHECK(probe.reason == "loss rose");
    if (std::abs(std::log10(probe.lr) + 2.0) < least_distance) least_distance = std::abs(std::log10(probe.lr) + 2.0), least_rise_lr = probe.lr;
  }
  CHECK(stage.lr == least_rise_lr);
}
