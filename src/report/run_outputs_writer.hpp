#pragma once

#include <cstddef>
#include <fstream>
#include <string>

#include "orchestrator/run_observer.hpp"

namespace autolrs::report {

/// Keeps a run directory's outputs current: summary.json and schedule.csv are rewritten atomically
/// after every launch; losses.csv is rewritten on the first event (so a resumed run starts it from
/// the journal's launches) and appended to afterwards.
class RunOutputsWriter : public orchestrator::RunObserver {
 public:
  explicit RunOutputsWriter(std::string run_dir) : m_run_dir(std::move(run_dir)) {}

  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_run_finished(const orchestrator::RunState& state) override;

 private:
  void write(const orchestrator::RunState& state);

  std::string m_run_dir;
  std::ofstream m_losses;
  size_t m_launches_written = 0;
};

}  // namespace autolrs::report
