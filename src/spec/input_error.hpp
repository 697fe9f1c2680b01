#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace autolrs::spec {

/// Bad user input (job spec, command line, corrupt journal). `field` is the path of the offending
/// value, e.g. "search.lr_min" or "journal.jsonl:17"; what() is "<field>: <reason>". Caught once in
/// cli, printed as "autolrs: error: <what()>", exit status 2.
class InputError : public std::runtime_error {
 public:
  InputError(std::string field, const std::string& reason)
      : std::runtime_error(field.empty() ? reason : field + ": " + reason), m_field(std::move(field)) {}

  const std::string& field() const { return m_field; }

 private:
  std::string m_field;
};

/// `text` made safe to show in a message: bytes outside printable ASCII written as \xNN, and cut to
/// its first `max_bytes` bytes followed by "..." when longer (user input may be hostile).
std::string printable(std::string_view text, std::size_t max_bytes = 60);

/// printable(text) in double quotes, with '"' and '\' escaped: `"abc"`.
std::string quoted_text(std::string_view text);

}  // namespace autolrs::spec
