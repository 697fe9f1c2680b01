#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace autolrs::spec {

/// The placeholders a trainer command may use, written `{name}`; `{{` and `}}` stand for literal braces.
/// lr, steps, save_checkpoint, load_checkpoint, global_step, stage, probe, seed, run_dir.
const std::vector<std::string>& known_placeholders();

/// The first unknown or malformed placeholder in `argument` (e.g. "{lrr}" or "{lr"), as an error
/// message; nullopt when the argument is valid.
std::optional<std::string> check_placeholders(const std::string& argument);

/// Substitutes `values` into each element of `argv_template`. Every placeholder used must have a value
/// (InputError otherwise).
std::vector<std::string> expand_command(const std::vector<std::string>& argv_template,
                                        const std::map<std::string, std::string>& values);

/// Shortest decimal text that reads back as exactly `value` (for `{lr}`).
std::string format_number(double value);

}  // namespace autolrs::spec
