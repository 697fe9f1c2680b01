#include "spec/loss_pattern.hpp"

#include "spec/input_error.hpp"

namespace autolrs::spec {

std::unique_ptr<RE2> compile_loss_pattern(const std::string& pattern, const std::string& field) {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_log_errors(false);
  auto compiled = std::make_unique<RE2>(pattern, options);
  if (!compiled->ok()) {
    throw InputError(field, "invalid regular expression " + quoted_text(pattern) + ": " + printable(compiled->error(), 120));
  }
  if (compiled->NamedCapturingGroups().count("loss") == 0) {
    throw InputError(field, "needs a named group `loss`, e.g. loss=(?P<loss>\\S+); got " + quoted_text(pattern));
  }
  return compiled;
}

}  // namespace autolrs::spec
