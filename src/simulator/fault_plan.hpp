#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace autolrs::simulator {

/// Faults that `autolrs simulate` injects to test the orchestrator. Step numbers are global steps;
/// 0 disables a step fault.
struct FaultPlan {
  std::int64_t crash_at_step = 0;  ///< exit with status 3 instead of taking this step, saving nothing
  std::int64_t hang_at_step = 0;   ///< stop printing and sleep forever instead of taking this step
  std::int64_t nan_from_step = 0;  ///< the parameters turn NaN at this step, so every later loss is nan
  bool skip_checkpoint = false;       ///< finish with status 0 without writing the checkpoint
  bool truncate_checkpoint = false;   ///< write only the first half of the checkpoint's bytes
  bool junk_lines = false;            ///< interleave junk (see junk_before_line) with the normal lines
  std::int64_t long_line_bytes = 0;   ///< print one line of this many bytes (plus '\n') at start
  /// When > 0, the faults above apply only to launches whose learning rate exceeds this, so a test
  /// can fail the high-LR probes of a stage while its main launch, at a lower LR, runs clean.
  double faults_lr_above = 0;
};

/// The faults a launch at learning rate `lr` suffers: `plan` itself, or no fault at all when
/// plan.faults_lr_above > 0 and `lr` <= plan.faults_lr_above.
FaultPlan faults_for_lr(const FaultPlan& plan, double lr);

enum class StepFault { none, crash, hang };

/// The fault due before global step `step` is taken; a crash wins over a hang at the same step.
StepFault fault_before_step(const FaultPlan& plan, std::int64_t step);

/// True when the parameters must be NaN for global step `step` (step >= nan_from_step > 0).
bool poisoned_at(const FaultPlan& plan, std::int64_t step);

/// What --junk-lines writes just before step `step`'s loss line: every step a carriage-return
/// progress bar ("\r[###       ] step 3\r"), so the loss line shares its physical line with the bar;
/// every third step also a whole line of binary junk with a NUL byte, invalid UTF-8 and an ANSI escape.
/// Nothing in it matches `step=` or `loss=`.
std::string junk_before_line(std::int64_t step);

/// Bytes [offset, offset + bytes) of the line body of --long-line-bytes (printable ASCII, no
/// newline, no `loss=`), so a long line can be written in pieces of bounded memory.
std::string long_line(std::int64_t bytes, std::int64_t offset = 0);

/// The bytes to write as the checkpoint under `plan`: none when skipped, the first half of
/// `checkpoint` when truncated, else all of it.
std::optional<std::string> checkpoint_bytes_to_write(const FaultPlan& plan, std::string checkpoint);

}  // namespace autolrs::simulator
