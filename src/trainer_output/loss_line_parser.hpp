#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "spec/job_spec.hpp"

namespace autolrs::trainer_output {

enum class OutputStream { stdout_stream, stderr_stream };

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

  /// Losses found in one line (without its newline) read from `stream`. A `loss` group that is not a
  /// number ("nan", "inf", "1e999", "abc") yields NaN or inf, never an error.
  ParsedLine parse(OutputStream stream, std::string_view line) const;

 private:
  struct Patterns;
  std::unique_ptr<Patterns> m_patterns;
};

}  // namespace autolrs::trainer_output
