#pragma once

#include <ostream>

#include "orchestrator/run_observer.hpp"
#include "search/range_test.hpp"

namespace autolrs::console {

/// The range test's console: one line per finished launch, e.g.
/// "[lr 2 of 25] lr=1.000e-05  final loss 2.297  (1.2 s)" (numbered from 0 as launch ids; the LRs
/// the test's stage runs, as its planner says; the final loss the table ranks it by), with the
/// status and reason of one that did not succeed.
class RangeTestLines : public orchestrator::RunObserver {
 public:
  explicit RangeTestLines(std::ostream& out) : m_out(out) {}

  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_warning(const std::string& message, const orchestrator::RunState&) override {
    m_out << "autolrs: warning: " << message << "\n";
  }

 private:
  std::ostream& m_out;
};

/// The range test's table (LR, final loss, the best marked), its explanation and, when it suggests
/// bounds, them and the two keys to set in the spec's "search" object.
void print_range_test_analysis(const search::RangeTestAnalysis& analysis, std::ostream& out);

}  // namespace autolrs::console
