#include <doctest/doctest.h>

#include "search/stage_plan.hpp"

TEST_CASE("search::planned_compute_steps adds the warmup, each stage and its probes") {
  autolrs::spec::JobSpec job;
  job.search.probes_per_stage = 10;
  job.search.first_stage_steps = 500;
  job.search.max_stage_steps = 2000;
  job.search.probe_fraction = 0.1;
  job.total_steps = 6000;
  SUBCASE("paper preset, the dry-run config: stages 500, 1000, 2000, 2000, 500") {
    job.search.preset = "paper";
    CHECK(autolrs::search::planned_compute_steps(job) == 6000 + 10 * (50 + 100 + 200 + 200 + 50));
  }
  SUBCASE("paper preset, a warmup, and a last stage too short to probe") {
    job.search.preset = "paper";
    job.warmup.steps = 100;
    job.total_steps = 100 + 500 + 1000 + 20;  // τ′ of the 20-step stage is 2 < 3: trained without probes
    CHECK(autolrs::search::planned_compute_steps(job) == 1620 + 10 * (50 + 100));
  }
  SUBCASE("stagewise preset: decay tails of τ′/4, 3 probes after the first stage, the winner continued") {
    // Stage 0: 10 probes of 50 + tails of 13; stages 1-3: 3 probes of τ′ + τ′/4; the last stage's
    // probes have no tails; every stage continues its winner, whose τ′ steps are training.
    job.search.preset = "stagewise";
    const long probes = (10 * (50 + 13) - 50) + (3 * (100 + 25) - 100) + 2 * (3 * (200 + 50) - 200) + (3 * 50 - 50);
    CHECK(autolrs::search::planned_compute_steps(job) == 6000 + probes);
  }
  SUBCASE("default preset: rounds of 10, 5, 3, 2 chains to 75, 150, 300, 900 steps, each with a tail of 0.125x its horizon") {
    const long chains = 10 * 75 + 5 * 75 + 3 * 150 + 2 * 600;
    const long tails = 10 * 9 + 5 * 19 + 3 * 38 + 2 * 113;
    CHECK(autolrs::search::planned_compute_steps(job) == 6000 + chains + tails - 900);
  }
}
