// libFuzzer target for the loss-line parser. The input's first line is tried as a user's loss pattern
// (refused with InputError or used), the rest as trainer output lines, which the README's patterns
// also read on both streams. Nothing may throw while parsing lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "spec/input_error.hpp"
#include "trainer_output/loss_line_parser.hpp"

namespace {

using autolrs::spec::LossPatternSpec;
using autolrs::spec::StreamSelector;
using autolrs::trainer_output::LossLineParser;
using autolrs::trainer_output::OutputStream;

void parse_lines(const LossLineParser& parser, std::string_view output) {
  while (!output.empty()) {
    const std::size_t newline = output.find('\n');
    const std::string_view line = output.substr(0, newline);
    parser.parse(OutputStream::stdout_stream, line);
    parser.parse(OutputStream::stderr_stream, line);
    if (newline == std::string_view::npos) break;
    output.remove_prefix(newline + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const LossLineParser readme_parser({"\\bloss=(?P<loss>\\S+)", StreamSelector::stdout_stream},
                                            LossPatternSpec{"val_loss=(?P<loss>\\S+)", StreamSelector::both});
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view output = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  parse_lines(readme_parser, input);
  try {
    const LossLineParser user_parser({std::string(input.substr(0, newline)), StreamSelector::both}, std::nullopt);
    parse_lines(user_parser, output);
  } catch (const autolrs::spec::InputError&) {
  }
  return 0;
}
