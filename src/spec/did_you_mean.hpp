#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autolrs::spec {

/// Edit distance between `a` and `b` ignoring ASCII case: insertions, deletions, substitutions and
/// transpositions of neighbours each cost 1 (optimal string alignment distance).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `given` when it is close enough to be a likely typo: at most 1 edit for
/// candidates of up to 4 characters, at most 2 for longer ones; ties go to the earlier candidate.
/// nullopt when none is that close.
std::optional<std::string> did_you_mean(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace autolrs::spec
