#pragma once

#include <nlohmann/json.hpp>

#include "search/autolrs_search.hpp"

namespace autolrs::search {

/// JSON forms of the search's launch requests and outcomes, as the journal stores them. Doubles are
/// written as JSON numbers, which read back bit-exactly, so a replayed search decides identically.
void to_json(nlohmann::json& json, const LaunchRequest& request);
void from_json(const nlohmann::json& json, LaunchRequest& request);
void to_json(nlohmann::json& json, const LaunchOutcome& outcome);
void from_json(const nlohmann::json& json, LaunchOutcome& outcome);

}  // namespace autolrs::search
