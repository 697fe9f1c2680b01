#pragma once

#include "orchestrator/clock.hpp"

namespace autolrs::process {

/// orchestrator::Clock on std::chrono::steady_clock: seconds since an unspecified origin (usually
/// boot), unaffected by changes to the system time.
class SteadyClock : public orchestrator::Clock {
 public:
  double now_s() const override;
};

}  // namespace autolrs::process
