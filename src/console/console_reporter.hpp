#pragma once

#include <ostream>

#include "orchestrator/run_observer.hpp"

namespace autolrs::console {

/// Prints the run for people: one line per finished launch (stage k/N, probe j/K, LR, last loss,
/// forecast) and a final table of stages with the totals.
class ConsoleReporter : public orchestrator::RunObserver {
 public:
  explicit ConsoleReporter(std::ostream& out) : m_out(out) {}

  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_run_finished(const orchestrator::RunState& state) override;

 private:
  std::ostream& m_out;
};

}  // namespace autolrs::console
