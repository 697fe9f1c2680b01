#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autolrs::spec {

/// The placeholders a trainer command may use, written `{name}`; `{{` and `}}` stand for literal braces.
/// lr, lr_end, steps, save_checkpoint, load_checkpoint, global_step, stage, probe, seed, run_dir.
const std::vector<std::string>& known_placeholders();

/// The first unknown or malformed placeholder in `argument` (e.g. "{lrr}" or "{lr"), as an error
/// message with a "did you mean" where a known name is close; nullopt when the argument is valid.
std::optional<std::string> check_placeholders(const std::string& argument);

/// Whether an element of `argv_template` uses the placeholder `name` (`{{name}}` is literal text).
bool uses_placeholder(const std::vector<std::string>& argv_template, std::string_view name);

/// Substitutes `values` into each element of `argv_template`, anywhere inside it ("--lr={lr}"). Every
/// placeholder used must have a value; a missing value or a malformed template throws InputError on
/// `field`[index], e.g. "trainer.resume_args[1]". Values for placeholders not used are ignored.
std::vector<std::string> expand_command(const std::vector<std::string>& argv_template,
                                        const std::map<std::string, std::string>& values,
                                        const std::string& field = "trainer.command");

/// Shortest decimal text that reads back as exactly `value` (for `{lr}`), locale-independent:
/// 0.001 -> "0.001", 1e-05 -> "1e-05", 2.0 -> "2"; non-finite values give "nan", "inf", "-inf".
std::string format_number(double value);

}  // namespace autolrs::spec
