#pragma once

namespace autolrs::orchestrator {

/// Wall time for the run's reports. Implementations: a steady clock at the edge, test fakes.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Seconds since an arbitrary fixed origin; never decreases.
  virtual double now_s() const = 0;
};

}  // namespace autolrs::orchestrator
