#pragma once

#include <nlohmann/json.hpp>

#include "numerics/bayes_opt.hpp"
#include "numerics/forecaster.hpp"

// JSON of the numerics' plain structs (layer 2: the numerics themselves know no JSON). The functions
// live in the structs' namespace so that nlohmann finds them by argument-dependent lookup.
// Doubles are written as JSON numbers with 17 significant digits and read back bit for bit.
namespace autolrs::numerics {

/// {"lr_min", "lr_max", "acquisition": "expected_improvement" | "lower_confidence_bound", "kappa",
/// "grid_points", "min_separation"}. An unknown acquisition name throws spec::InputError.
void to_json(nlohmann::json& json, const BayesOptConfig& config);
void from_json(const nlohmann::json& json, BayesOptConfig& config);

/// {"x", "value", "noise_var", "failed"}.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BoObservation, x, value, noise_var, failed)

/// {"config", "seed", "proposals", "observations": [...]}: restores BayesOpt exactly.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BayesOptState, config, seed, proposals, observations)

/// {"status": "ok" | "diverged" | "insufficient", "prediction", "a", "b", "c", "residual_scale",
/// "prediction_std", "points_used"}. An unknown status throws spec::InputError.
void to_json(nlohmann::json& json, const Forecast& forecast);
void from_json(const nlohmann::json& json, Forecast& forecast);

}  // namespace autolrs::numerics
