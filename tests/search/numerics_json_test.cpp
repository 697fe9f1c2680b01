#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "numerics/bayes_opt.hpp"
#include "search/numerics_json.hpp"
#include "spec/input_error.hpp"

namespace {

using namespace autolrs::numerics;

bool same_bits(double left, double right) { return std::memcmp(&left, &right, sizeof left) == 0; }

/// Serializes to text and parses back, as the journal does.
template <typename T>
T through_text(const T& value) {
  return nlohmann::json::parse(nlohmann::json(value).dump()).get<T>();
}

}  // namespace

TEST_CASE("search::numerics_json round-trips BayesOptState bit for bit through text") {
  std::mt19937_64 random(2024);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  BayesOptState state;
  state.config = {3.3e-5, 0.7, Acquisition::lower_confidence_bound, 1e6, 301, 0.0125};
  state.seed = std::numeric_limits<std::uint64_t>::max() - 12345;
  state.proposals = 17;
  for (int i = 0; i < 50; ++i) {
    state.observations.push_back({unit(random), std::exp(20 * unit(random) - 10) * (i % 3 ? 1 : -1),
                                  unit(random) * 1e-7, i % 7 == 0});
  }
  state.observations.push_back({0.1, 4.9406564584124654e-324, 1e-300, false});  // denormal and tiny values
  const BayesOptState back = through_text(state);
  CHECK(back.config.lr_min == state.config.lr_min);
  CHECK(back.config.lr_max == state.config.lr_max);
  CHECK(back.config.acquisition == Acquisition::lower_confidence_bound);
  CHECK(back.config.kappa == 1e6);
  CHECK(back.config.grid_points == 301);
  CHECK(back.config.min_separation == 0.0125);
  CHECK(back.seed == state.seed);
  CHECK(back.proposals == 17);
  REQUIRE(back.observations.size() == state.observations.size());
  for (std::size_t i = 0; i < state.observations.size(); ++i) {
    CAPTURE(i);
    CHECK(same_bits(back.observations[i].x, state.observations[i].x));
    CHECK(same_bits(back.observations[i].value, state.observations[i].value));
    CHECK(same_bits(back.observations[i].noise_var, state.observations[i].noise_var));
    CHECK(back.observations[i].failed == state.observations[i].failed);
  }
}

TEST_CASE("search::numerics_json restores a BayesOpt that proposes exactly what the original does") {
  BayesOptConfig config;
  BayesOpt original(config, 99);
  for (int i = 0; i < 5; ++i) {
    const double lr = original.ask();
    original.tell(lr, std::pow(lr_to_x(config, lr) - 0.35, 2) + 0.1 * i, 1e-5);
  }
  BayesOpt restored(through_text(original.state()));
  CHECK(restored.ask_batch(2) == original.ask_batch(2));
}

TEST_CASE("search::numerics_json writes a Forecast with its status name and reads it back") {
  Forecast forecast;
  forecast.status = ForecastStatus::diverged;
  forecast.prediction = 2.5;
  forecast.a = 1.0 / 3;
  forecast.b = -0.01;
  forecast.c = 0.7;
  forecast.residual_scale = 0.05;
  forecast.prediction_std = 0.2;
  forecast.points_used = 97;
  const nlohmann::json json = forecast;
  CHECK(json.at("status") == "diverged");
  CHECK(json.at("points_used") == 97);
  const Forecast back = through_text(forecast);
  CHECK(back.status == ForecastStatus::diverged);
  CHECK(same_bits(back.a, forecast.a));
  CHECK(back.prediction == 2.5);
  CHECK(back.points_used == 97);
}

TEST_CASE("search::numerics_json rejects unknown enum names with an InputError naming the field") {
  nlohmann::json config = BayesOptConfig{};
  config["acquisition"] = "probability_of_improvement";
  CHECK_THROWS_WITH_AS(config.get<BayesOptConfig>(), "acquisition: unknown acquisition 'probability_of_improvement'",
                       autolrs::spec::InputError);
  nlohmann::json forecast = Forecast{};
  forecast["status"] = "great";
  CHECK_THROWS_AS(forecast.get<Forecast>(), autolrs::spec::InputError);
}
