#include "trainer_output/loss_line_parser.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <re2/re2.h>

#include "spec/loss_pattern.hpp"

namespace autolrs::trainer_output {

namespace {

/// One compiled pattern with the submatch slots of its groups.
struct CompiledPattern {
  std::unique_ptr<RE2> regex;
  spec::StreamSelector stream = spec::StreamSelector::stdout_stream;
  int loss_group = 0;
  int step_group = -1;  ///< -1 without a `step` group

  CompiledPattern(const spec::LossPatternSpec& spec, const std::string& field)
      : regex(spec::compile_loss_pattern(spec.pattern, field)), stream(spec.stream) {
    const std::map<std::string, int>& groups = regex->NamedCapturingGroups();
    loss_group = groups.at("loss");
    if (const auto step = groups.find("step"); step != groups.end()) step_group = step->second;
  }

  bool reads(OutputStream from) const {
    switch (stream) {
      case spec::StreamSelector::both: return true;
      case spec::StreamSelector::stdout_stream: return from == OutputStream::stdout_stream;
      case spec::StreamSelector::stderr_stream: return from == OutputStream::stderr_stream;
    }
    return false;
  }

  /// The sample in the last '\r'-separated segment of `line` that matches, if any.
  std::optional<LossSample> find(std::string_view line) const {
    const int groups = std::max(loss_group, step_group) + 1;
    std::vector<re2::StringPiece> submatches(static_cast<std::size_t>(groups));
    std::size_t end = line.size();
    while (true) {
      const std::size_t separator = end == 0 ? std::string_view::npos : line.rfind('\r', end - 1);
      const std::size_t begin = separator == std::string_view::npos ? 0 : separator + 1;
      const re2::StringPiece segment(line.data() + begin, end - begin);
      if (!segment.empty() && regex->Match(segment, 0, segment.size(), RE2::UNANCHORED, submatches.data(), groups)) {
        LossSample sample;
        sample.loss = parse_number(std::string_view(submatches[loss_group].data(), submatches[loss_group].size()));
        if (step_group >= 0) {
          const re2::StringPiece step = submatches[step_group];
          const double value = parse_number(std::string_view(step.data(), step.size()));
          if (std::isfinite(value)) sample.step = value;
        }
        return sample;
      }
      if (separator == std::string_view::npos) return std::nullopt;
      end = separator;
    }
  }
};

/// Decimal exponent estimate of the number text [first, last) (digits, '.', exponent), for telling
/// overflow from underflow when from_chars reports the value out of range.
bool magnitude_above_one(const char* first, const char* last) {
  long integer_digits = 0;
  long leading_fraction_zeros = 0;
  bool in_fraction = false;
  bool seen_nonzero = false;
  const char* cursor = first;
  for (; cursor != last && *cursor != 'e' && *cursor != 'E'; ++cursor) {
    if (*cursor == '.') {
      in_fraction = true;
    } else if (*cursor >= '0' && *cursor <= '9') {
      seen_nonzero = seen_nonzero || *cursor != '0';
      if (!in_fraction && seen_nonzero) ++integer_digits;
      if (in_fraction && !seen_nonzero) ++leading_fraction_zeros;
    }
  }
  long exponent = 0;
  if (cursor != last) {
    ++cursor;
    const bool negative = cursor != last && *cursor == '-';
    if (cursor != last && (*cursor == '-' || *cursor == '+')) ++cursor;
    for (; cursor != last && exponent < 1'000'000'000; ++cursor) exponent = exponent * 10 + (*cursor - '0');
    if (negative) exponent = -exponent;
  }
  return (integer_digits > 0 ? integer_digits : -leading_fraction_zeros) + exponent > 0;
}

}  // namespace

double parse_number(std::string_view text) {
  std::size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return std::numeric_limits<double>::quiet_NaN();
  bool negative = false;
  if (text[start] == '+' || text[start] == '-') {
    negative = text[start] == '-';
    ++start;
  }
  const char* first = text.data() + start;
  const char* last = text.data() + text.size();
  if (first != last && (*first == '+' || *first == '-')) return std::numeric_limits<double>::quiet_NaN();
  double value = 0;
  const std::from_chars_result result = std::from_chars(first, last, value);
  if (result.ec == std::errc::result_out_of_range) {
    value = magnitude_above_one(first, result.ptr) ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (result.ec != std::errc()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return negative ? -value : value;
}

struct LossLineParser::Patterns {
  CompiledPattern train;
  std::optional<CompiledPattern> val;
};

LossLineParser::LossLineParser(const spec::LossPatternSpec& train, const std::optional<spec::LossPatternSpec>& val)
    : m_patterns(std::make_unique<Patterns>(Patterns{CompiledPattern(train, "trainer.loss.pattern"), std::nullopt})) {
  if (val) m_patterns->val.emplace(*val, "trainer.val_loss.pattern");
}

LossLineParser::~LossLineParser() = default;
LossLineParser::LossLineParser(LossLineParser&&) noexcept = default;

ParsedLine LossLineParser::parse(OutputStream stream, std::string_view line) const {
  ParsedLine parsed;
  if (m_patterns->train.reads(stream)) parsed.train = m_patterns->train.find(line);
  if (m_patterns->val && m_patterns->val->reads(stream)) parsed.val = m_patterns->val->find(line);
  return parsed;
}

}  // namespace autolrs::trainer_output
