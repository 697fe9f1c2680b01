#pragma once

#include <memory>
#include <string>

#include <re2/re2.h>

namespace autolrs::spec {

/// Compiles a loss pattern (RE2 syntax, Python's `(?P<name>...)` groups) as the loss-line parser
/// runs it: bytes are read as Latin-1, so any byte sequence (non-UTF-8 included) is matched byte by
/// byte and UTF-8 literals in the pattern still match themselves. Throws InputError on `field`
/// (e.g. "trainer.loss.pattern") for invalid syntax or a pattern without a `loss` group.
std::unique_ptr<RE2> compile_loss_pattern(const std::string& pattern, const std::string& field);

}  // namespace autolrs::spec
