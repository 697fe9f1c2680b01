#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "simulator/task.hpp"
#include "spec/input_error.hpp"

using namespace autolrs::simulator;

namespace {

Task small_task(Spectrum spectrum) {
  return {.name = "small", .dimension = 5, .h_min = 0.01, .h_max = 100, .spectrum = spectrum,
          .noise_scale = 1, .batch_size = 8, .momentum = 0.5, .initial_loss = 2};
}

}  // namespace

TEST_CASE("simulator::curvatures spread over [h_min, h_max] by the task's spectrum") {
  SUBCASE("log-uniform: consecutive ratios are equal") {
    const std::vector<double> h = curvatures(small_task(Spectrum::log_uniform));
    const double expected[] = {100, 10, 1, 0.1, 0.01};
    for (int i = 0; i < 5; ++i) CHECK(h[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
  SUBCASE("power law: h_i = h_max·i^(-p) with p = ln(h_max/h_min)/ln d") {
    const std::vector<double> h = curvatures(small_task(Spectrum::power_law));
    const double p = std::log(1e4) / std::log(5.0);
    for (int i = 0; i < 5; ++i) CHECK(h[i] == doctest::Approx(100 * std::pow(i + 1.0, -p)).epsilon(1e-12));
    CHECK(h[4] == doctest::Approx(0.01).epsilon(1e-12));
  }
  SUBCASE("one dimension sits at h_max") {
    Task task = small_task(Spectrum::power_law);
    task.dimension = 1;
    CHECK(curvatures(task) == std::vector<double>{100});
  }
}

TEST_CASE("simulator::initial_parameters split the initial loss equally over the dimensions") {
  const Task task = small_task(Spectrum::log_uniform);
  const std::vector<double> h = curvatures(task);
  const std::vector<double> theta = initial_parameters(task);
  for (int i = 0; i < 5; ++i) CHECK(0.5 * h[i] * theta[i] * theta[i] == doctest::Approx(0.4).epsilon(1e-12));
}

TEST_CASE("simulator::fingerprint changes with every field that shapes the dynamics") {
  const Task base = small_task(Spectrum::log_uniform);
  Task renamed = base;
  renamed.name = "other";
  CHECK(fingerprint(renamed) == fingerprint(base));
  auto changed = [&](auto mutate) {
    Task task = base;
    mutate(task);
    return fingerprint(task) != fingerprint(base);
  };
  CHECK(changed([](Task& t) { t.dimension = 6; }));
  CHECK(changed([](Task& t) { t.h_min = 0.02; }));
  CHECK(changed([](Task& t) { t.h_max = 99; }));
  CHECK(changed([](Task& t) { t.spectrum = Spectrum::power_law; }));
  CHECK(changed([](Task& t) { t.noise_scale = 2; }));
  CHECK(changed([](Task& t) { t.batch_size = 9; }));
  CHECK(changed([](Task& t) { t.momentum = 0.9; }));
  CHECK(changed([](Task& t) { t.initial_loss = 3; }));
}

TEST_CASE("simulator::preset_task knows every preset name and rejects others") {
  const std::vector<std::string> names = preset_names();
  REQUIRE(names.size() >= 3);
  CHECK(names.front() == default_task_name());
  CHECK(default_task_name() == "quadratic");
  for (const std::string& name : names) {
    const Task task = preset_task(name);
    CHECK(task.name == name);
    CHECK(task.dimension >= 100);
  }
  try {
    preset_task("cifar");
    FAIL("expected InputError");
  } catch (const autolrs::spec::InputError& e) {
    CHECK(e.field() == "--task");
    CHECK(std::string(e.what()) ==
          "--task: unknown task 'cifar' (known: quadratic, quadratic-ill-conditioned, quadratic-small-batch, "
          "quadratic-large-batch)");
  }
}

TEST_CASE("simulator::stability_limit_lr is 2(1+β)/h_max") {
  CHECK(stability_limit_lr(small_task(Spectrum::log_uniform)) == doctest::Approx(0.03));
  CHECK(stability_limit_lr(preset_task("quadratic")) == doctest::Approx(0.38));
}
