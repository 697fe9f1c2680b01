#pragma once

#include <optional>
#include <vector>

#include "numerics/bayes_opt.hpp"
#include "numerics/gaussian_process.hpp"

namespace autolrs::numerics {

/// Value to maximize for a GP prediction (mean, variance in objective units), minimizing the objective:
/// LCB: -(mu - kappa sigma) (Srinivas et al. 2010); EI: (y_best - mu) Phi(z) + sigma phi(z),
/// z = (y_best - mu) / sigma (Jones, Schonlau & Welch 1998), max(y_best - mu, 0) when sigma = 0.
double acquisition_value(Acquisition acquisition, double kappa, double mean, double variance, double best_value);

/// Maximizes the acquisition of `gp` over x in [0, 1]: the best of `config.grid_points` evenly spaced
/// points, refined by Brent's method between its grid neighbours. Points within
/// `config.min_separation` of any of `excluded` are never returned; nullopt when all grid points are.
std::optional<double> maximize_acquisition(const GaussianProcess& gp, const BayesOptConfig& config, double best_value,
                                           const std::vector<double>& excluded);

}  // namespace autolrs::numerics
