// One AutoLRS stage's numerics and its pieces: 10 probe forecasts of 1,000 points, 10 GP fits and
// the proposals. Run: build/bench/numerics_bench --benchmark_min_time=0.05

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "numerics/bayes_opt.hpp"
#include "numerics/forecaster.hpp"
#include "numerics/gaussian_process.hpp"

namespace {

using namespace autolrs::numerics;

struct Probe {
  std::vector<double> steps, losses;
};

/// A noisy, spiky training-loss probe of `points` steps whose decay rate depends on `seed`.
Probe make_probe(int points, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double rate = (0.5 + 4 * unit(random)) / points;
  Probe probe;
  for (int t = 1; t <= points; ++t) {
    double loss = (1.0 + 1.5 * std::exp(-rate * t)) * (1 + noise(random));
    if (unit(random) < 0.02) loss *= 2;
    probe.steps.push_back(t);
    probe.losses.push_back(loss);
  }
  return probe;
}

void BM_Forecast(benchmark::State& state) {
  const Probe probe = make_probe(static_cast<int>(state.range(0)), 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(forecast_loss(probe.steps, probe.losses, 10.0 * state.range(0), SeriesKind::train));
  }
}
BENCHMARK(BM_Forecast)->Arg(100)->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

/// The same with the exponential family alone (the paper preset's forecasts).
void BM_ForecastExponential(benchmark::State& state) {
  const Probe probe = make_probe(static_cast<int>(state.range(0)), 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(forecast_loss(probe.steps, probe.losses, 10.0 * state.range(0), SeriesKind::train,
                                           ForecastFamily::exponential));
  }
}
BENCHMARK(BM_ForecastExponential)->Arg(100)->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

void BM_GpFit(benchmark::State& state) {
  std::vector<double> x, y, noise;
  for (int i = 0; i < state.range(0); ++i) {
    x.push_back(std::fmod(0.37 + 0.618 * i, 1.0));
    y.push_back(std::pow(x.back() - 0.4, 2) + 0.01 * std::sin(40.0 * i));
    noise.push_back(1e-4);
  }
  for (auto _ : state) {
    GaussianProcess gp;
    gp.fit(x, y, noise);
    benchmark::DoNotOptimize(gp.predict(0.5));
  }
}
BENCHMARK(BM_GpFit)->Arg(3)->Arg(10)->Arg(20)->Unit(benchmark::kMicrosecond);

void BM_Ask(benchmark::State& state) {
  BayesOpt optimizer(BayesOptConfig{}, 3);
  for (int i = 0; i < state.range(0); ++i) {
    const double lr = optimizer.ask();
    optimizer.tell(lr, std::pow(lr_to_x(optimizer.state().config, lr) - 0.4, 2));
  }
  for (auto _ : state) {
    BayesOpt copy(optimizer.state());
    benchmark::DoNotOptimize(copy.ask());
  }
}
BENCHMARK(BM_Ask)->Arg(1)->Arg(9)->Unit(benchmark::kMicrosecond);

/// A whole stage: 10 sequential probes (ask, forecast the 1,000-point probe, tell), then the
/// posterior curve for the report.
void BM_Stage(benchmark::State& state) {
  std::vector<Probe> probes;
  for (std::uint64_t i = 0; i < 10; ++i) probes.push_back(make_probe(1000, 100 + i));
  for (auto _ : state) {
    BayesOpt optimizer(BayesOptConfig{}, 7);
    for (const Probe& probe : probes) {
      const double lr = optimizer.ask();
      const Forecast forecast = forecast_loss(probe.steps, probe.losses, 10000, SeriesKind::train);
      optimizer.tell(lr, forecast.prediction, forecast.prediction_std * forecast.prediction_std);
    }
    benchmark::DoNotOptimize(optimizer.best_observed_lr());
    benchmark::DoNotOptimize(optimizer.posterior(128));
  }
}
BENCHMARK(BM_Stage)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
