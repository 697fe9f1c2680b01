#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "spec/job_spec.hpp"

namespace autolrs::trainer_output {

enum class OutputStream { stdout_stream, stderr_stream };

/// The number at the start of `text` (spaces and tabs skipped), read locale-independently as its
/// longest numeric prefix: "2.31," -> 2.31, "+3" -> 3, "1e999" -> inf, "1e-999" -> 0, and "nan",
/// "inf", "-inf", "Infinity" in any case as written; NaN when there is no numeric prefix ("abc", "").
double parse_number(std::string_view text);

/// One loss read from a line. `loss` may be NaN or ±inf: the trainer reported divergence.
struct LossSample {
  std::optional<double> step;  ///< from the `step` group, when the pattern has one and it parsed
  double loss = 0;
};

struct ParsedLine {
  std::optional<LossSample> train;
  std::optional<LossSample> val;
};

/// Parses trainer output lines with the spec's RE2 patterns. Immutable after construction, so one
/// parser can serve concurrent launches.
class LossLineParser {
 public:
  /// Throws spec::InputError (field "trainer.loss.pattern" / "trainer.val_loss.pattern") for an
  /// invalid pattern or one without a `loss` group.
  LossLineParser(const spec::LossPatternSpec& train, const std::optional<spec::LossPatternSpec>& val);
  ~LossLineParser();
  LossLineParser(LossLineParser&&) noexcept;

  /// Losses found in one line (without its newline) read from `stream`: each pattern that applies to
  /// `stream` is searched anywhere in the line (RE2 partial match), so one line may give a train and
  /// a val loss. A line with carriage returns is a series of overwritten reports (progress bars):
  /// each pattern reads the last '\r'-separated segment it matches. The `loss` group is read with
  /// parse_number, so "nan", "inf", "1e999" and "abc" give NaN or inf (divergence), never an error;
  /// `step` is set only when that group exists, took part in the match and holds a finite number.
  /// Any bytes are fine (binary, invalid UTF-8); time is linear in the line's length.
  ParsedLine parse(OutputStream stream, std::string_view line) const;

 private:
  struct Patterns;
  std::unique_ptr<Patterns> m_patterns;
};

}  // namespace autolrs::trainer_output
