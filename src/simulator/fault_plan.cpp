#include "simulator/fault_plan.hpp"

#include <string_view>

namespace autolrs::simulator {

FaultPlan faults_for_lr(const FaultPlan& plan, double lr) {
  if (plan.faults_lr_above > 0 && lr <= plan.faults_lr_above) return FaultPlan{};
  return plan;
}

StepFault fault_before_step(const FaultPlan& plan, std::int64_t step) {
  if (plan.crash_at_step > 0 && step == plan.crash_at_step) return StepFault::crash;
  if (plan.hang_at_step > 0 && step == plan.hang_at_step) return StepFault::hang;
  return StepFault::none;
}

bool poisoned_at(const FaultPlan& plan, std::int64_t step) {
  return plan.nan_from_step > 0 && step >= plan.nan_from_step;
}

std::string junk_before_line(std::int64_t step) {
  using namespace std::string_view_literals;
  std::string junk;
  if (step % 3 == 0) junk += "\x00\xff\xfe binary \x80\xc3\x28 junk \x1b[31mred\x1b[0m\n"sv;
  const int filled = static_cast<int>(step % 10);
  junk += "\r[" + std::string(filled, '#') + std::string(10 - filled, ' ') + "] step " + std::to_string(step) + "\r";
  return junk;
}

std::string long_line(std::int64_t bytes, std::int64_t offset) {
  constexpr std::string_view pattern = "long line filler 0123456789 ";
  std::string line(static_cast<std::size_t>(bytes), ' ');
  for (std::size_t i = 0; i < line.size(); ++i) {
    line[i] = pattern[(static_cast<std::size_t>(offset) + i) % pattern.size()];
  }
  return line;
}

std::optional<std::string> checkpoint_bytes_to_write(const FaultPlan& plan, std::string checkpoint) {
  if (plan.skip_checkpoint) return std::nullopt;
  if (plan.truncate_checkpoint) checkpoint.resize(checkpoint.size() / 2);
  return checkpoint;
}

}  // namespace autolrs::simulator
