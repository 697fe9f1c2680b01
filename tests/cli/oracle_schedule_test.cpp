#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/autolrs_process.hpp"
#include "support/temp_dir.hpp"

using autolrs::testing::Finished;
using autolrs::testing::run_autolrs;
using autolrs::testing::TempDir;

TEST_CASE("cli::oracle-schedule prints a schedule at least as good as the best cosine, with the closed forms") {
  TempDir dir;
  const Finished run = run_autolrs(dir.path(), {"oracle-schedule", "--task", "quadratic-large-batch", "--steps", "400",
                                                "--segments", "4", "--lr-min", "1e-3", "--lr-max", "1"});
  INFO(run.err);
  REQUIRE(run.status == 0);
  const nlohmann::json oracle = nlohmann::json::parse(run.out);
  CHECK(oracle.at("task") == "quadratic-large-batch");
  REQUIRE(oracle.at("segments").size() == 4);
  for (int k = 0; k < 4; ++k) {
    CHECK(oracle.at("segments")[k].at("start_step") == 100 * k);
    CHECK(oracle.at("segments")[k].at("steps") == 100);
  }
  const double oracle_loss = oracle.at("expected_loss").get<double>();
  CHECK(oracle_loss > 0);
  CHECK(oracle_loss <= oracle.at("best_cosine").at("expected_loss").get<double>());
  CHECK(oracle_loss <= oracle.at("best_constant").at("expected_loss").get<double>());
}

TEST_CASE("cli::oracle-schedule rejects options out of range with exit status 2") {
  TempDir dir;
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--segments", "0"}, "autolrs: error: --segments: must be between 1 and --steps"},
      {{"--steps", "10", "--segments", "11"}, "autolrs: error: --segments: must be between 1 and --steps"},
      {{"--lr-min", "0.5"}, "autolrs: error: --lr-min: must be below the task's stability limit"},
      {{"--task", "cubic"}, "autolrs: error: --task: unknown task 'cubic'"},
  };
  for (const auto& [options, message] : cases) {
    CAPTURE(message);
    std::vector<std::string> args{"oracle-schedule"};
    args.insert(args.end(), options.begin(), options.end());
    const Finished run = run_autolrs(dir.path(), args);
    CHECK(run.status == 2);
    CHECK(run.err.find(message) != std::string::npos);
  }
}
