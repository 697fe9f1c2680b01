#pragma once

#include <optional>
#include <string>

#include "orchestrator/clock.hpp"
#include "orchestrator/run_observer.hpp"

namespace autolrs::report {

/// Keeps `<run_dir>/report.html` current (render_html_report, written atomically): after every
/// main launch (warmup or stage), after a probe when `min_interval_s` of `clock` time passed since
/// the last write (so that a stage's probes show up without rewriting the file after each one),
/// and at the end of the run. Throws std::runtime_error when the file cannot be written.
class HtmlReportWriter : public orchestrator::RunObserver {
 public:
  /// Name of the report inside the run dir.
  static constexpr const char* file_name = "report.html";

  HtmlReportWriter(std::string run_dir, const orchestrator::Clock& clock, double min_interval_s = 5)
      : m_path(std::move(run_dir) + "/" + file_name), m_clock(clock), m_min_interval_s(min_interval_s) {}

  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_run_finished(const orchestrator::RunState& state) override;

 private:
  void write(const orchestrator::RunState& state);

  std::string m_path;
  const orchestrator::Clock& m_clock;
  double m_min_interval_s;
  std::optional<double> m_last_write_s;
};

}  // namespace autolrs::report
