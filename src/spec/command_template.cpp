#include "spec/command_template.hpp"

#include <algorithm>
#include <charconv>

#include "spec/did_you_mean.hpp"
#include "spec/input_error.hpp"

namespace autolrs::spec {

namespace {

/// A run of literal text or a placeholder name, in template order.
struct TemplatePiece {
  bool is_placeholder = false;
  std::string_view text;
};

std::string known_list() {
  std::string list;
  for (const std::string& name : known_placeholders()) list += (list.empty() ? "{" : ", {") + name + "}";
  return list;
}

/// Splits `argument` into pieces, unescaping `{{` and `}}`; an error message for a malformed or
/// unknown placeholder.
std::optional<std::string> split_template(std::string_view argument, std::vector<TemplatePiece>& pieces) {
  const std::string literal_braces = "write {{ and }} for literal braces";
  std::size_t literal_start = 0;
  auto flush_literal = [&](std::size_t end) {
    if (end > literal_start) pieces.push_back({false, argument.substr(literal_start, end - literal_start)});
  };
  for (std::size_t i = 0; i < argument.size(); ++i) {
    const char c = argument[i];
    if (c != '{' && c != '}') continue;
    flush_literal(i);
    if (i + 1 < argument.size() && argument[i + 1] == c) {  // an escaped brace
      pieces.push_back({false, c == '{' ? std::string_view("{") : std::string_view("}")});
      literal_start = ++i + 1;
      continue;
    }
    if (c == '}') return "single } without a matching { (" + literal_braces + ")";
    const std::size_t close = argument.find('}', i + 1);
    if (close == std::string_view::npos) {
      return "unclosed placeholder " + quoted_text(argument.substr(i)) + " (" + literal_braces + ")";
    }
    const std::string_view name = argument.substr(i + 1, close - i - 1);
    if (name.find('{') != std::string_view::npos) {
      return "malformed placeholder " + quoted_text(argument.substr(i, close - i + 1)) + " (" + literal_braces + ")";
    }
    const std::vector<std::string>& known = known_placeholders();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string shown = "{" + printable(name) + "}";
      if (const std::optional<std::string> close_name = did_you_mean(name, known)) {
        return "unknown placeholder " + shown + " (did you mean {" + *close_name + "}?)";
      }
      return "unknown placeholder " + shown + " (known: " + known_list() + "; " + literal_braces + ")";
    }
    pieces.push_back({true, name});
    literal_start = close + 1;
    i = close;
  }
  flush_literal(argument.size());
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& known_placeholders() {
  static const std::vector<std::string> names = {"lr",    "lr_end", "steps", "save_checkpoint", "load_checkpoint",
                                                 "global_step", "stage", "probe", "seed", "run_dir"};
  return names;
}

std::optional<std::string> check_placeholders(const std::string& argument) {
  std::vector<TemplatePiece> pieces;
  return split_template(argument, pieces);
}

bool uses_placeholder(const std::vector<std::string>& argv_template, std::string_view name) {
  return std::any_of(argv_template.begin(), argv_template.end(), [&](const std::string& argument) {
    std::vector<TemplatePiece> pieces;
    split_template(argument, pieces);
    return std::any_of(pieces.begin(), pieces.end(),
                       [&](const TemplatePiece& piece) { return piece.is_placeholder && piece.text == name; });
  });
}

std::vector<std::string> expand_command(const std::vector<std::string>& argv_template,
                                        const std::map<std::string, std::string>& values, const std::string& field) {
  std::vector<std::string> argv;
  argv.reserve(argv_template.size());
  for (std::size_t index = 0; index < argv_template.size(); ++index) {
    const std::string element_field = field + "[" + std::to_string(index) + "]";
    std::vector<TemplatePiece> pieces;
    if (std::optional<std::string> error = split_template(argv_template[index], pieces)) {
      throw InputError(element_field, *error);
    }
    std::string expanded;
    for (const TemplatePiece& piece : pieces) {
      if (!piece.is_placeholder) {
        expanded += piece.text;
        continue;
      }
      const auto value = values.find(std::string(piece.text));
      if (value == values.end()) {
        throw InputError(element_field, "placeholder {" + std::string(piece.text) + "} has no value in this launch");
      }
      expanded += value->second;
    }
    argv.push_back(std::move(expanded));
  }
  return argv;
}

std::string format_number(double value) {
  char text[64];
  const std::to_chars_result result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

}  // namespace autolrs::spec
