#include <doctest/doctest.h>

#include "simulator/fault_plan.hpp"

using namespace autolrs::simulator;

TEST_CASE("simulator::fault_before_step fires exactly at the planned global step") {
  const FaultPlan plan{.crash_at_step = 5, .hang_at_step = 7};
  CHECK(fault_before_step(plan, 4) == StepFault::none);
  CHECK(fault_before_step(plan, 5) == StepFault::crash);
  CHECK(fault_before_step(plan, 6) == StepFault::none);
  CHECK(fault_before_step(plan, 7) == StepFault::hang);
  CHECK(fault_before_step(FaultPlan{.crash_at_step = 3, .hang_at_step = 3}, 3) == StepFault::crash);
  CHECK(fault_before_step(FaultPlan{}, 1) == StepFault::none);
}

TEST_CASE("simulator::poisoned_at holds from nan_from_step on") {
  const FaultPlan plan{.nan_from_step = 10};
  CHECK_FALSE(poisoned_at(plan, 9));
  CHECK(poisoned_at(plan, 10));
  CHECK(poisoned_at(plan, 1000));
  CHECK_FALSE(poisoned_at(FaultPlan{}, 1000));
}

TEST_CASE("simulator::junk_before_line mixes progress bars and binary junk") {
  CHECK(junk_before_line(1) == "\r[#         ] step 1\r");
  const std::string junk = junk_before_line(3);
  CHECK(junk == std::string("\x00\xff\xfe binary \x80\xc3\x28 junk \x1b[31mred\x1b[0m\n", 33) +
                    "\r[###       ] step 3\r");
  for (std::int64_t step = 1; step <= 30; ++step) {
    CHECK(junk_before_line(step).find("step=") == std::string::npos);
    CHECK(junk_before_line(step).find("loss=") == std::string::npos);
  }
}

TEST_CASE("simulator::long_line has exactly the requested bytes and no newline") {
  for (std::int64_t bytes : {0, 1, 28, 29, 100000}) {
    const std::string line = long_line(bytes);
    CHECK(static_cast<std::int64_t>(line.size()) == bytes);
    CHECK(line.find('\n') == std::string::npos);
  }
  CHECK(long_line(10) == "long line ");
  const std::string whole = long_line(1000);
  for (std::int64_t offset : {0, 1, 27, 28, 29, 500}) {
    CAPTURE(offset);
    CHECK(long_line(100, offset) == whole.substr(static_cast<std::size_t>(offset), 100));
  }
}

TEST_CASE("simulator::checkpoint_bytes_to_write skips, truncates or keeps the checkpoint") {
  CHECK(checkpoint_bytes_to_write(FaultPlan{}, "abcdef") == "abcdef");
  CHECK(checkpoint_bytes_to_write(FaultPlan{.truncate_checkpoint = true}, "abcdef") == "abc");
  CHECK_FALSE(checkpoint_bytes_to_write(FaultPlan{.skip_checkpoint = true}, "abcdef").has_value());
}

TEST_CASE("simulator::faults_for_lr keeps the plan above faults_lr_above and drops it at or below") {
  const FaultPlan plan{.crash_at_step = 5, .nan_from_step = 9, .skip_checkpoint = true, .faults_lr_above = 0.1};
  CHECK(faults_for_lr(plan, 0.2).crash_at_step == 5);
  CHECK(faults_for_lr(plan, 0.2).skip_checkpoint);
  for (double lr : {0.1, 0.05, 0.0}) {
    const FaultPlan none = faults_for_lr(plan, lr);
    CHECK(none.crash_at_step == 0);
    CHECK(none.nan_from_step == 0);
    CHECK_FALSE(none.skip_checkpoint);
    CHECK(fault_before_step(none, 5) == StepFault::none);
  }
  CHECK(faults_for_lr(FaultPlan{.crash_at_step = 5}, 1e-9).crash_at_step == 5);  // 0: every launch
}
