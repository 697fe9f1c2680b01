#include "spec/input_error.hpp"

#include <cstdio>

namespace autolrs::spec {

namespace {

std::string escaped(std::string_view text, std::size_t max_bytes, bool escape_quotes) {
  std::string out;
  const std::size_t shown = std::min(text.size(), max_bytes);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", byte);
      out += hex;
    } else {
      if (escape_quotes && (byte == '"' || byte == '\\')) out += '\\';
      out += static_cast<char>(byte);
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_bytes) { return escaped(text, max_bytes, false); }

std::string quoted_text(std::string_view text) { return '"' + escaped(text, 60, true) + '"'; }

}  // namespace autolrs::spec
