#include "numerics/bayes_opt.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "numerics/acquisition.hpp"
#include "numerics/gaussian_process.hpp"

namespace autolrs::numerics {

namespace {

constexpr double k_inverse_golden_ratio = 0.6180339887498949;

/// SplitMix64 (Steele, Lea & Flood 2014): a well-mixed 64-bit value from a seed.
std::uint64_t splitmix64(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

/// Point k of the seeded first design: the golden-ratio (Kronecker) sequence x_k = frac(u0 + k / phi),
/// u0 uniform from the seed. Any prefix of it is spread evenly over [0, 1] (three-distance theorem).
double first_design_point(std::uint64_t seed, std::uint64_t k) {
  const double offset = static_cast<double>(splitmix64(seed) >> 11) * 0x1.0p-53;
  const double x = offset + static_cast<double>(k % (1ULL << 52)) * k_inverse_golden_ratio;
  return x - std::floor(x);
}

/// Midpoint of the widest gap between `taken` points and the bounds 0 and 1.
double widest_gap_midpoint(std::vector<double> taken) {
  taken.push_back(0);
  taken.push_back(1);
  std::sort(taken.begin(), taken.end());
  double best = 0.5, widest = -1;
  for (std::size_t i = 1; i < taken.size(); ++i) {
    if (taken[i] - taken[i - 1] > widest) widest = taken[i] - taken[i - 1], best = 0.5 * (taken[i] + taken[i - 1]);
  }
  return best;
}

bool separated(double x, const std::vector<double>& taken, double min_separation) {
  return std::none_of(taken.begin(), taken.end(), [&](double other) { return std::abs(x - other) < min_separation; });
}

/// The GP's data: successes at their values, failures at the penalty, pending points (constant
/// liar) at the best observed value.
struct TrainingSet {
  std::vector<double> x, y, noise_var;
  double best_value = 0;
  bool any_success = false;
};

TrainingSet training_set(const BayesOptState& state, const std::vector<double>& pending) {
  TrainingSet set;
  double worst = 0;
  for (const BoObservation& observation : state.observations) {
    if (observation.failed) continue;
    if (!set.any_success || observation.value < set.best_value) set.best_value = observation.value;
    if (!set.any_success || observation.value > worst) worst = observation.value;
    set.any_success = true;
  }
  const double margin = std::max({worst - set.best_value, std::abs(worst) * 0.1, 1e-3});
  const double penalty = worst + margin;
  for (const BoObservation& observation : state.observations) {
    set.x.push_back(observation.x);
    set.y.push_back(observation.failed ? penalty : observation.value);
    set.noise_var.push_back(observation.failed ? 0.0 : observation.noise_var);
  }
  for (double x : pending) {
    set.x.push_back(x);
    set.y.push_back(set.best_value);
    set.noise_var.push_back(0);
  }
  return set;
}

void validate(const BayesOptConfig& config) {
  if (!(std::isfinite(config.lr_min) && std::isfinite(config.lr_max) && config.lr_min > 0 &&
        config.lr_min < config.lr_max)) {
    throw std::invalid_argument("BayesOpt: needs finite 0 < lr_min < lr_max");
  }
  if (config.grid_points < 2) throw std::invalid_argument("BayesOpt: grid_points must be >= 2");
  if (!(config.kappa >= 0 && std::isfinite(config.kappa))) throw std::invalid_argument("BayesOpt: kappa must be >= 0");
  if (!(config.min_separation >= 0 && config.min_separation < 0.5)) {
    throw std::invalid_argument("BayesOpt: min_separation must be in [0, 0.5)");
  }
}

/// One proposal in x, given the points already proposed in this batch.
double propose(const BayesOptState& state, const std::vector<double>& pending) {
  std::vector<double> taken = pending;
  for (const BoObservation& observation : state.observations) taken.push_back(observation.x);
  if (state.observations.empty()) {
    for (std::uint64_t k = state.proposals; k < state.proposals + 64; ++k) {
      const double x = first_design_point(state.seed, k);
      if (separated(x, taken, state.config.min_separation)) return x;
    }
    return widest_gap_midpoint(taken);
  }
  const TrainingSet set = training_set(state, pending);
  if (!set.any_success) return widest_gap_midpoint(taken);  // explore away from the failures
  GaussianProcess gp;
  gp.fit(set.x, set.y, set.noise_var);
  return maximize_acquisition(gp, state.config, set.best_value, taken).value_or(widest_gap_midpoint(taken));
}

}  // namespace

double lr_to_x(const BayesOptConfig& config, double lr) {
  return (std::log(lr) - std::log(config.lr_min)) / (std::log(config.lr_max) - std::log(config.lr_min));
}

double x_to_lr(const BayesOptConfig& config, double x) {
  if (x <= 0) return config.lr_min;
  if (x >= 1) return config.lr_max;
  return std::exp(std::log(config.lr_min) + x * (std::log(config.lr_max) - std::log(config.lr_min)));
}

BayesOpt::BayesOpt(const BayesOptConfig& config, std::uint64_t seed) : m_state{config, seed, 0, {}} {
  validate(config);
}

BayesOpt::BayesOpt(BayesOptState state) : m_state(std::move(state)) { validate(m_state.config); }

double BayesOpt::ask() { return ask_batch(1).front(); }

std::vector<double> BayesOpt::ask_batch(int count, const std::vector<double>& pending_lrs) {
  std::vector<double> pending;
  for (double lr : pending_lrs) pending.push_back(std::clamp(lr_to_x(m_state.config, lr), 0.0, 1.0));
  std::vector<double> lrs;
  for (int i = 0; i < count; ++i) {
    const double x = propose(m_state, pending);
    ++m_state.proposals;
    pending.push_back(x);
    lrs.push_back(x_to_lr(m_state.config, x));
  }
  return lrs;
}

void BayesOpt::tell(double lr, double value, double noise_var) {
  if (!(std::isfinite(lr) && lr > 0)) throw std::invalid_argument("BayesOpt::tell: lr must be finite and > 0");
  if (!(std::isfinite(noise_var) && noise_var >= 0)) throw std::invalid_argument("BayesOpt::tell: noise_var must be >= 0");
  if (!std::isfinite(value)) return tell_failure(lr);
  m_state.observations.push_back({std::clamp(lr_to_x(m_state.config, lr), 0.0, 1.0), value, noise_var, false});
}

void BayesOpt::tell_failure(double lr) {
  if (!(std::isfinite(lr) && lr > 0)) throw std::invalid_argument("BayesOpt::tell_failure: lr must be finite and > 0");
  m_state.observations.push_back({std::clamp(lr_to_x(m_state.config, lr), 0.0, 1.0), 0.0, 0.0, true});
}

std::optional<double> BayesOpt::best_observed_lr() const {
  const BoObservation* best = nullptr;
  for (const BoObservation& observation : m_state.observations) {
    if (!observation.failed && (!best || observation.value < best->value)) best = &observation;
  }
  if (!best) return std::nullopt;
  return x_to_lr(m_state.config, best->x);
}

std::vector<PosteriorPoint> BayesOpt::posterior(int points) const {
  std::vector<double> lrs;
  for (int i = 0; i < points; ++i) {
    lrs.push_back(x_to_lr(m_state.config, points == 1 ? 0.5 : static_cast<double>(i) / (points - 1)));
  }
  return posterior_at(lrs);
}

std::vector<PosteriorPoint> BayesOpt::posterior_at(const std::vector<double>& lrs) const {
  std::vector<PosteriorPoint> curve;
  if (m_state.observations.empty()) return curve;
  const TrainingSet set = training_set(m_state, {});
  GaussianProcess gp;
  gp.fit(set.x, set.y, set.noise_var);
  for (double lr : lrs) {
    const GaussianProcess::Prediction prediction = gp.predict(lr_to_x(m_state.config, lr));
    curve.push_back({lr, prediction.mean, std::sqrt(prediction.variance)});
  }
  return curve;
}

}  // namespace autolrs::numerics
