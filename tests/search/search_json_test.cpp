#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "search/search_json.hpp"

using autolrs::search::LaunchKind;
using autolrs::search::LaunchRequest;

TEST_CASE("search::search_json writes lr_end only for a ramp and reads both kinds back") {
  LaunchRequest constant;
  constant.kind = LaunchKind::stage;
  constant.stage = 3;
  constant.lr = 0.1;
  constant.steps = 500;
  constant.start_step = 1500;
  const nlohmann::json constant_json = constant;
  CHECK_FALSE(constant_json.contains("lr_end"));
  CHECK(constant_json.get<LaunchRequest>() == constant);

  LaunchRequest ramp = constant;
  ramp.lr_end = 0.0;
  const nlohmann::json ramp_json = ramp;
  CHECK(ramp_json.at("lr_end") == 0.0);
  const LaunchRequest read_back = ramp_json.get<LaunchRequest>();
  CHECK(read_back == ramp);
  CHECK(read_back.lr_end == 0.0);
}

TEST_CASE("search::lr_at_launch_step gives the LR of the step that printed a loss") {
  LaunchRequest ramp;
  ramp.lr = 0.2;
  ramp.lr_end = 0.0;
  ramp.steps = 4;
  // Loss lines at launch steps 1..4 come from the steps k = 0..3 at 0.2, 0.15, 0.1, 0.05.
  CHECK(autolrs::search::lr_at_launch_step(ramp, 1) == doctest::Approx(0.2));
  CHECK(autolrs::search::lr_at_launch_step(ramp, 3) == doctest::Approx(0.1));
  CHECK(autolrs::search::lr_at_launch_step(ramp, 4) == doctest::Approx(0.05));
  CHECK(autolrs::search::lr_at_launch_step(ramp, 9) == doctest::Approx(0.05));  // clamped to the launch
  ramp.lr_end.reset();
  CHECK(autolrs::search::lr_at_launch_step(ramp, 3) == 0.2);
}
