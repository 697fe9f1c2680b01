#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace autolrs::numerics {

/// Acquisition functions, over x = normalized log(LR) in [0, 1], minimizing the objective.
enum class Acquisition {
  lower_confidence_bound,  ///< mu(x) - kappa * sigma(x); kappa = 1e6 is the paper's pure uncertainty sampling
  expected_improvement     ///< E[max(y_best - f(x), 0)]
};

struct BayesOptConfig {
  double lr_min = 1e-4;  ///< search bounds, 0 < lr_min < lr_max
  double lr_max = 1.0;
  Acquisition acquisition = Acquisition::expected_improvement;
  double kappa = 2.0;    ///< LCB exploration weight
  int grid_points = 256; ///< dense grid over [0, 1] for maximizing the acquisition, before local refinement
  double min_separation = 0.01;  ///< proposals closer than this (in x) to an evaluated or pending point are not made
};

/// One evaluated LR, in the GP's coordinates.
struct BoObservation {
  double x = 0;          ///< normalized log(LR) in [0, 1]
  double value = 0;      ///< objective (forecast loss); for failed probes, ignored (the penalty is derived)
  double noise_var = 0;  ///< extra observation noise variance (forecast uncertainty), in value units squared
  bool failed = false;   ///< the probe crashed or diverged: observed as a finite penalty, worse than every success
};

/// The optimizer's whole state: a plain struct that (de)serializes and restores exactly.
struct BayesOptState {
  BayesOptConfig config;
  std::uint64_t seed = 0;
  std::uint64_t proposals = 0;  ///< number of ask() proposals made; randomness is derived from (seed, proposals)
  std::vector<BoObservation> observations;
};

/// A point of the GP posterior, for reports: mean and standard deviation in objective units.
struct PosteriorPoint {
  double lr = 0, mean = 0, std = 0;
};

/// Ask/tell Bayesian optimization of a 1-D objective over log(LR) with a Matérn 5/2 GP.
/// Deterministic: the same state and the same calls give the same proposals.
class BayesOpt {
 public:
  BayesOpt(const BayesOptConfig& config, std::uint64_t seed);
  explicit BayesOpt(BayesOptState state);

  /// Next LR to evaluate. With no observations, point `proposals` of the seeded first design, the
  /// golden-ratio sequence x_k = frac(u0 + k / phi) with u0 from the seed. With failures only, the
  /// midpoint of the widest gap between them and the bounds. Otherwise the acquisition's maximizer.
  /// Never within min_separation of an evaluated LR (unless the whole range is that close).
  /// Without a tell() in between, repeated calls after the first design return the same LR.
  double ask();
  /// `count` LRs to evaluate concurrently (constant liar): distinct and separated from each other
  /// and from the evaluated LRs.
  /// `pending_lrs` are LRs proposed earlier and still being evaluated: they are treated like this
  /// batch's own proposals (constant liar), so the new ones keep away from them.
  std::vector<double> ask_batch(int count, const std::vector<double>& pending_lrs = {});
  /// Records an evaluated LR; noise_var is added to the GP's noise at that point. A non-finite value
  /// is recorded as a failure. Throws std::invalid_argument for lr <= 0 or a negative noise_var.
  void tell(double lr, double value, double noise_var = 0);
  /// Records a failed or diverged evaluation (penalty: worst observed value plus a margin of
  /// max(range of successes, 10% of |worst|, 1e-3)). The penalty is observed without noise: with
  /// noise, the variance near failures stays high and uncertainty sampling keeps proposing there.
  void tell_failure(double lr);

  /// LR with the lowest observed value among successes; nullopt when none succeeded.
  std::optional<double> best_observed_lr() const;
  /// The GP posterior at `points` log-spaced LRs across the bounds (empty with no observations).
  std::vector<PosteriorPoint> posterior(int points) const;
  /// The GP posterior at the given LRs (empty with no observations).
  std::vector<PosteriorPoint> posterior_at(const std::vector<double>& lrs) const;

  const BayesOptState& state() const { return m_state; }

 private:
  BayesOptState m_state;
};

double lr_to_x(const BayesOptConfig& config, double lr);
double x_to_lr(const BayesOptConfig& config, double x);

}  // namespace autolrs::numerics
