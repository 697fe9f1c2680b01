#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "search/peak_decay_search.hpp"
#include "search/search_json.hpp"
#include "search/stage_plan.hpp"

using namespace autolrs;
using search::LaunchKind;
using search::LaunchOutcome;
using search::LaunchRequest;
using search::OutcomeStatus;
using search::PeakDecaySearch;

namespace {

/// 1000 steps, four candidates (1e-4, 2.15e-3, 4.64e-2, 1): H = 100, two rounds at horizons 50 and
/// 150 with tails of 6 and 19 steps, the hold over [150, 200), eight decay stages of 100 steps.
spec::JobSpec small_job(bool ramps) {
  spec::JobSpec job;
  job.name = "test";
  job.trainer.command = {"train", "--lr", "{lr}"};
  if (ramps) {
    job.trainer.command.push_back("--lr-end");
    job.trainer.command.push_back("{lr_end}");
  }
  job.trainer.loss = {"loss=(?P<loss>\\S+)"};
  job.search.lr_min = 1e-4;
  job.search.lr_max = 1.0;
  job.search.probes_per_stage = 4;
  job.search.decay_shape = "cubic";  // auto's choice has its own cases
  job.total_steps = 1000;
  return job;
}

/// A launch's train losses: a level that depends on its LR (lowest at `best_lr`, in log distance) and
/// on the round, so that rounds can reorder candidates.
LaunchOutcome outcome_for(const LaunchRequest& request, double best_lr) {
  LaunchOutcome outcome;
  outcome.status = OutcomeStatus::succeeded;
  const double level = 1.0 + std::pow(std::log10(request.lr) - std::log10(best_lr), 2) + 0.01 * request.start_step;
  for (long step = 1; step <= request.steps; ++step) outcome.train.push_back({static_cast<double>(step), level});
  return outcome;
}

LaunchOutcome status_outcome(OutcomeStatus status, const std::string& reason) {
  LaunchOutcome outcome;
  outcome.status = status;
  outcome.reason = reason;
  return outcome;
}

std::vector<LaunchRequest> drive(PeakDecaySearch& search, const std::function<LaunchOutcome(const LaunchRequest&)>& answer,
                                 int slots = 1) {
  std::vector<LaunchRequest> launches;
  for (int guard = 0; guard < 1000 && !search.finished() && !search.failure(); ++guard) {
    const std::vector<LaunchRequest> next = search.next_launches(slots);
    REQUIRE(!next.empty());
    for (const LaunchRequest& request : next) {
      launches.push_back(request);
      search.record(request, answer(request));
    }
  }
  return launches;
}

LaunchRequest probe_launch(int probe, int round, double lr, long start, long steps, bool tail,
                           std::optional<double> lr_end = std::nullopt) {
  LaunchRequest request;
  request.kind = LaunchKind::probe;
  request.stage = 0;
  request.probe = probe;
  request.round = round;
  request.lr = lr;
  request.steps = steps;
  request.start_step = start;
  request.from_probe = round > 0 || tail ? probe : -1;
  request.decay_tail = tail;
  request.lr_end = lr_end;
  return request;
}

const double lrs[] = {1e-4, 1e-4 * std::pow(1e4, 1.0 / 3), 1e-4 * std::pow(1e4, 2.0 / 3), 1.0};

/// Drives `search` with losses lowest at `best_lr`; the first launch of each stage in
/// `diverging_stages` diverges. `hold_references` gets the divergence reference each hold launch ran with.
std::vector<LaunchRequest> drive_diverging_once(PeakDecaySearch& search, double best_lr, std::set<int> diverging_stages,
                                                std::vector<std::optional<double>>& hold_references) {
  return drive(search, [&](const LaunchRequest& r) {
    if (r.kind == LaunchKind::stage && r.stage == 0) hold_references.push_back(search.reference_loss());
    if (r.kind == LaunchKind::stage && diverging_stages.erase(r.stage) > 0) {
      return status_outcome(OutcomeStatus::diverged, "loss exploded");
    }
    return outcome_for(r, best_lr);
  });
}

}  // namespace

TEST_CASE("search::PeakDecaySearch: successive halving with ramped tails, the hold, then a cubic decay in ramps") {
  PeakDecaySearch search(small_job(true));
  CHECK(search.horizons() == std::vector<long>{50, 150});
  CHECK(search.hold_end() == 200);
  CHECK(search.round_sizes() == std::vector<int>{4, 2});
  CHECK(search.progress().planned_stages == 9);
  const std::vector<LaunchRequest> launches = drive(search, [](const LaunchRequest& r) { return outcome_for(r, 0.03); });
  REQUIRE(search.finished());
  REQUIRE(launches.size() == 4 + 4 + 2 + 2 + 1 + 8);
  for (int probe = 0; probe < 4; ++probe) {
    CHECK(launches[probe] == probe_launch(probe, 0, lrs[probe], 0, 50, false));
    CHECK(launches[4 + probe] == probe_launch(probe, 0, lrs[probe], 50, 6, true, 0.0));
  }
  // 4.64e-2 and 2.15e-3 are closest to 0.03, but the largest LR, 1, goes on in place of the second:
  // the two go on, in LR order.
  CHECK(launches[8] == probe_launch(2, 1, lrs[2], 50, 100, false));
  CHECK(launches[9] == probe_launch(3, 1, lrs[3], 50, 100, false));
  CHECK(launches[10] == probe_launch(2, 1, lrs[2], 150, 19, true, 0.0));
  CHECK(launches[11] == probe_launch(3, 1, lrs[3], 150, 19, true, 0.0));
  CHECK(launches[8].id() == "stage-000-probe-02-r1");
  CHECK(launches[10].id() == "stage-000-probe-02-r1-decay");

  const LaunchRequest& hold = launches[12];
  CHECK(hold.kind == LaunchKind::stage);
  CHECK(hold.stage == 0);
  CHECK(hold.from_probe == 2);
  CHECK(hold.start_step == 150);
  CHECK(hold.steps == 50);
  CHECK(hold.lr == lrs[2]);
  CHECK(!hold.lr_end);
  for (int k = 0; k < 8; ++k) {
    const LaunchRequest& decay = launches[static_cast<size_t>(13 + k)];
    CHECK(decay.stage == k + 1);
    CHECK(decay.from_probe == -1);
    CHECK(decay.start_step == 200 + 100 * k);
    CHECK(decay.steps == 100);
    CHECK(decay.lr == doctest::Approx(lrs[2] * std::pow(1 - k / 8.0, 3)));
    REQUIRE(decay.lr_end);
    CHECK(*decay.lr_end == doctest::Approx(lrs[2] * std::pow(1 - (k + 1) / 8.0, 3)));
  }
  const search::SearchRecord& record = search.progress();
  CHECK(record.stages.size() == 9);
  CHECK(record.stages[0].winner_probe == 2);
  CHECK(record.stages[0].probes[2].rounds == 2);
  CHECK(record.stages[0].probes[2].steps == 150);
  CHECK(record.stages[0].probes[1].rounds == 1);
  CHECK(record.stages[0].probes[1].steps == 50);
  CHECK(record.stages[0].probe_steps == 150);
  CHECK(record.model_steps == 1000);
  // Chains 4·50 + 2·100 and tails 4·6 + 2·19, less the winner's chain.
  CHECK(record.probe_steps == 400 + 62 - 150);
  CHECK(search::planned_compute_steps(small_job(true)) == 1000 + 312);
}

TEST_CASE("search::PeakDecaySearch without ramps: tails at a tenth of the LR, decay pieces at the curve's mean") {
  PeakDecaySearch search(small_job(false));
  const std::vector<LaunchRequest> launches = drive(search, [](const LaunchRequest& r) { return outcome_for(r, 0.03); });
  REQUIRE(search.finished());
  CHECK(launches[4] == probe_launch(0, 0, lrs[0] / 10, 50, 6, true));
  // The fake's loss follows the launch's LR: judged at a tenth of it, 1 is nearest 0.03.
  const double peak = *search.progress().stages[0].lr;
  CHECK(peak == lrs[3]);
  const LaunchRequest& first_decay = launches[13];
  CHECK(!first_decay.lr_end);
  // Mean of (1 − v)³ over v ∈ [0, 1/8): (1 − (7/8)⁴) / (4/8); over [7/8, 1): (1/8)⁴ / (4/8).
  CHECK(first_decay.lr == doctest::Approx(peak * (1 - std::pow(7.0 / 8, 4)) / (4.0 / 8)));
  CHECK(launches.back().lr == doctest::Approx(peak * std::pow(1.0 / 8, 4) / (4.0 / 8)));
}

TEST_CASE("search::PeakDecaySearch with decay_shape auto: cubic when a last-round tail removes 10% of the loss, else linear") {
  // Chains stay at 2 + (log10 of their LR's distance from 0.03)²; the tails remove `gain` of that for
  // the largest LR (1), a finalist, and half as much for the others.
  const auto drive_with_gain = [](PeakDecaySearch& search, double gain) {
    return drive(search, [gain](const LaunchRequest& r) {
      LaunchOutcome outcome;
      outcome.status = OutcomeStatus::succeeded;
      const double chain_level = 2 + std::pow(std::log10(r.lr) - std::log10(0.03), 2);
      const double removed = r.decay_tail ? (r.probe == 3 ? gain : gain / 2) : 0.0;
      for (long step = 1; step <= r.steps; ++step) {
        outcome.train.push_back({static_cast<double>(step), (1 - removed) * chain_level});
      }
      return outcome;
    });
  };
  // 1.2: a tail whose losses end below 0 removed all of the loss, no more.
  for (const double gain : {1.2, 0.2, 0.04}) {
    CAPTURE(gain);
    spec::JobSpec job = small_job(true);
    job.search.decay_shape = "auto";
    PeakDecaySearch search(job);
    const std::vector<LaunchRequest> launches = drive_with_gain(search, gain);
    REQUIRE(search.finished());
    const search::SearchRecord& record = search.progress();
    REQUIRE(record.decay);
    REQUIRE(record.decay->anneal_gain);
    CHECK(*record.decay->anneal_gain == doctest::Approx(std::min(gain, 1.0)));
    const double peak = *record.stages[0].lr;
    const LaunchRequest& second_decay = launches[14];
    REQUIRE(second_decay.stage == 2);
    if (gain >= PeakDecaySearch::noise_limited_gain) {
      CHECK(record.decay->shape == "cubic");
      CHECK(second_decay.lr == doctest::Approx(peak * std::pow(7.0 / 8, 3)));
    } else {
      CHECK(record.decay->shape == "linear");
      CHECK(second_decay.lr == doctest::Approx(peak * 7.0 / 8));
      CHECK(*second_decay.lr_end == doctest::Approx(peak * 6.0 / 8));
    }
  }
}

TEST_CASE("search::PeakDecaySearch judges by the last val loss when the trainer prints one") {
  spec::JobSpec job = small_job(true);
  job.trainer.val_loss = spec::LossPatternSpec{"val=(?P<loss>\\S+)"};
  PeakDecaySearch search(job);
  // Train losses favour LR 1e-4; the val loss at a tail's end favours 1.
  drive(search, [](const LaunchRequest& r) {
    LaunchOutcome outcome = outcome_for(r, 1e-4);
    outcome.val.push_back({static_cast<double>(r.steps), 5.0 - r.lr});
    return outcome;
  });
  REQUIRE(search.finished());
  CHECK(search.progress().stages[0].winner_probe == 3);
  CHECK(search.progress().stages[0].probes[3].end_loss_from_val);
  CHECK(*search.progress().stages[0].probes[3].end_loss == doctest::Approx(4.0));
}

TEST_CASE("search::PeakDecaySearch judges by train losses with their trend over the tail's last half, at its end") {
  // Without val lines: LR 1's tails fall from 2 to 1, the others' stay at 1.05 and above. By the mean
  // of its last 4 losses (the old rule: a quarter of the last round's 19) LR 1 would lose with 1.08;
  // its trend ends at 1, the best.
  PeakDecaySearch search(small_job(true));
  drive(search, [](const LaunchRequest& r) {
    if (!r.decay_tail) return outcome_for(r, 0.03);
    LaunchOutcome outcome;
    outcome.status = OutcomeStatus::succeeded;
    for (long k = 0; k < r.steps; ++k) {
      const double falling = 2.0 - static_cast<double>(k) / static_cast<double>(r.steps - 1);
      outcome.train.push_back({static_cast<double>(k + 1), r.probe == 3 ? falling : 1.05 + 0.01 * r.probe});
    }
    return outcome;
  });
  REQUIRE(search.finished());
  const search::StageRecord& stage = search.progress().stages[0];
  CHECK(stage.winner_probe == 3);
  CHECK_FALSE(stage.probes[3].end_loss_from_val);
  CHECK(*stage.probes[3].end_loss == doctest::Approx(1.0));
  CHECK(*stage.probes[0].end_loss == doctest::Approx(1.05));
}

TEST_CASE("search::PeakDecaySearch hands out a round's chains together and each tail as its chain ends") {
  PeakDecaySearch search(small_job(true));
  const std::vector<LaunchRequest> chains = search.next_launches(8);
  REQUIRE(chains.size() == 4);
  CHECK(search.next_launches(8).empty());
  search.record(chains[2], outcome_for(chains[2], 0.03));
  const std::vector<LaunchRequest> tail = search.next_launches(8);
  REQUIRE(tail.size() == 1);
  CHECK(tail[0] == probe_launch(2, 0, lrs[2], 50, 6, true, 0.0));
}

TEST_CASE("search::PeakDecaySearch drops failed candidates and fails the run when a round has none left") {
  SUBCASE("a diverged chain and a failed tail are out; the rest go on") {
    PeakDecaySearch search(small_job(true));
    drive(search, [](const LaunchRequest& r) {
      if (r.probe == 2 && !r.decay_tail) return status_outcome(OutcomeStatus::diverged, "loss exploded");
      if (r.probe == 1 && r.decay_tail) return status_outcome(OutcomeStatus::failed, "exit 1");
      return outcome_for(r, 0.03);
    });
    REQUIRE(search.finished());
    const search::StageRecord& stage = search.progress().stages[0];
    CHECK(stage.probes[2].status == search::ProbeStatus::diverged);
    CHECK(stage.probes[1].status == search::ProbeStatus::failed);
    CHECK(stage.probes[1].reason == "decay tail: exit 1");
    CHECK(stage.winner_probe == 3);  // 1 is nearer 0.03 than 1e-4
  }
  SUBCASE("every candidate fails") {
    PeakDecaySearch search(small_job(true));
    drive(search, [](const LaunchRequest&) { return status_outcome(OutcomeStatus::failed, "exit 2"); });
    REQUIRE(search.failure());
    CHECK(*search.failure() == "stage 0: every probe failed (lr 0.0001: exit 2; lr 0.00215: exit 2; lr 0.0464: exit 2; lr 1: exit 2)");
  }
}

TEST_CASE("search::PeakDecaySearch retries a diverged hold, from the other finalist when its LR is smaller, and halves a diverged decay") {
  // The train losses' level of a chain of round 1 (from step 50) for the LR `lr` when the best is `best`.
  const auto chain_level = [](double lr, double best) { return 1.0 + std::pow(std::log10(lr) - std::log10(best), 2) + 0.5; };
  SUBCASE("the other finalist's LR is larger: the winner's chain is tried again; a diverged decay is halved") {
    PeakDecaySearch search(small_job(true));
    std::vector<std::optional<double>> hold_references;
    const std::vector<LaunchRequest> launches = drive_diverging_once(search, 0.03, {0, 3}, hold_references);
    REQUIRE(search.finished());
    REQUIRE(launches.size() == 12 + 1 + 1 + 8 + 1);
    // The finalists are 4.64e-2 (the winner) and 1 (the largest): the hold does not move up to 1.
    CHECK(launches[13].id() == "stage-000-retry-1");
    CHECK(launches[13].from_probe == 2);
    CHECK(launches[13].lr == lrs[2]);
    CHECK(search.progress().stages[0].abandoned_lrs.empty());
    // The hold's divergence is judged against the level the winner's chain ended at, every attempt.
    REQUIRE(hold_references.size() == 2);
    CHECK(hold_references[0] == doctest::Approx(chain_level(lrs[2], 0.03)));
    CHECK(hold_references[1] == doctest::Approx(chain_level(lrs[2], 0.03)));
    CHECK(launches[14].lr == doctest::Approx(lrs[2]));
    CHECK(launches[16].stage == 3);
    CHECK(launches[17].id() == "stage-003-retry-1");
    CHECK(launches[17].lr == doctest::Approx(launches[16].lr / 2));
    CHECK(*launches[17].lr_end == doctest::Approx(*launches[16].lr_end / 2));
    CHECK(launches[18].lr == doctest::Approx(lrs[2] * std::pow(1 - 3 / 8.0, 3) / 2));
    CHECK(search.progress().stages[3].abandoned_lrs == std::vector<double>{launches[16].lr});
    CHECK(search.progress().discarded_steps == 0);  // diverged launches without losses ran no steps
  }
  SUBCASE("the other finalist's LR is smaller: its chain takes over at its LR") {
    PeakDecaySearch search(small_job(true));
    std::vector<std::optional<double>> hold_references;
    const std::vector<LaunchRequest> launches = drive_diverging_once(search, 1.0, {0}, hold_references);
    REQUIRE(search.finished());
    // The finalists are 1 (the winner) and 4.64e-2.
    CHECK(launches[12].lr == lrs[3]);
    CHECK(launches[13].id() == "stage-000-retry-1");
    CHECK(launches[13].from_probe == 2);
    CHECK(launches[13].lr == lrs[2]);
    CHECK(launches[14].lr == doctest::Approx(lrs[2]));  // the decay follows the new peak
    CHECK(search.progress().stages[0].abandoned_lrs == std::vector<double>{lrs[3]});
    REQUIRE(hold_references.size() == 2);
    CHECK(hold_references[0] == doctest::Approx(chain_level(lrs[3], 1.0)));
    CHECK(hold_references[1] == doctest::Approx(chain_level(lrs[2], 1.0)));
  }
}

TEST_CASE("search::PeakDecaySearch starts after the warmup, and a run too short to search decays from the mean") {
  SUBCASE("warmup") {
    spec::JobSpec job = small_job(true);
    job.total_steps = 1100;
    job.warmup = {100, 0.001};
    PeakDecaySearch search(job);
    const std::vector<LaunchRequest> launches = drive(search, [](const LaunchRequest& r) { return outcome_for(r, 0.03); });
    REQUIRE(search.finished());
    CHECK(launches[0].kind == LaunchKind::warmup);
    CHECK(launches[1] == probe_launch(0, 0, lrs[0], 100, 50, false));
    CHECK(launches[13].start_step == 250);  // the hold
    CHECK(launches.back().start_step + launches.back().steps == 1100);
  }
  SUBCASE("too short") {
    spec::JobSpec job = small_job(true);
    job.total_steps = 10;
    PeakDecaySearch search(job);
    CHECK(search.horizons().empty());
    const std::vector<LaunchRequest> launches = drive(search, [](const LaunchRequest& r) { return outcome_for(r, 0.03); });
    REQUIRE(search.finished());
    REQUIRE(launches.size() == 8);
    CHECK(launches[0].kind == LaunchKind::stage);
    CHECK(launches[0].lr == doctest::Approx(0.01));
    CHECK(search.progress().planned_stages == 8);
  }
}

TEST_CASE("search::LaunchRequest JSON keeps a probe's round") {
  const LaunchRequest request = probe_launch(3, 2, 0.1, 200, 25, true, 0.0);
  CHECK(nlohmann::json(request).get<LaunchRequest>() == request);
  CHECK(nlohmann::json(request).at("round") == 2);
  CHECK(!nlohmann::json(probe_launch(3, 0, 0.1, 0, 25, false)).contains("round"));
}
