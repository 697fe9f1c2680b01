#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "console/console_reporter.hpp"
#include "orchestrator/clock.hpp"
#include "orchestrator/run_observer.hpp"

namespace autolrs::console {

/// On a terminal: one status line redrawn in place ("\r" then clear-to-end-of-line, no newline):
/// the latest launch (launch_label, its retry_text), its LR, its latest loss, its forecast once it
/// finished (never an earlier launch's), a bar of model steps done / total, elapsed time and an ETA,
/// cut to the terminal's width; finished launches' lines (launch_line) scroll above it, and the final
/// table replaces it. Losses arriving less than `min_redraw_s` after the last redraw (on `clock`)
/// update the state without redrawing.
class LiveStatusReporter : public orchestrator::RunObserver {
 public:
  /// `planned_compute_steps`: steps the run trains, probes included (search::planned_compute_steps),
  /// for the ETA = elapsed × remaining / done compute steps; `columns` (≥ 2): the terminal's width,
  /// the line is cut to columns − 1 characters, so that it never wraps (a wrapped line is not redrawn
  /// in place).
  LiveStatusReporter(std::ostream& out, const orchestrator::Clock& clock, long planned_compute_steps, int columns,
                     double min_redraw_s = 0.1)
      : m_out(out),
        m_clock(clock),
        m_planned_compute_steps(planned_compute_steps),
        m_columns(columns),
        m_min_redraw_s(min_redraw_s),
        m_plain(out) {}

  void on_launch_started(const search::LaunchRequest& request, int slot, const orchestrator::RunState& state) override;
  void on_loss(const search::LaunchRequest& request, bool is_val, double loss) override;
  void on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) override;
  void on_run_finished(const orchestrator::RunState& state) override;
  void on_warning(const std::string& message, const orchestrator::RunState& state) override;

  /// The status line as it would be drawn now (without the "\r\033[K" prefix).
  std::string status_line() const;

 private:
  void take_state(const orchestrator::RunState& state);
  void redraw();

  std::ostream& m_out;
  const orchestrator::Clock& m_clock;
  long m_planned_compute_steps;
  int m_columns;
  double m_min_redraw_s;
  ConsoleReporter m_plain;

  std::string m_label = "starting";
  double m_lr = 0;
  std::optional<double> m_loss, m_forecast;
  long m_model_steps = 0, m_total_steps = 0, m_compute_steps = 0;
  double m_elapsed_at_event_s = 0, m_clock_at_event_s = 0;
  std::optional<double> m_last_draw_s;
};

/// "m:ss", or "h:mm:ss" from an hour on; seconds rounded down, negative as 0.
std::string format_duration(double seconds);

}  // namespace autolrs::console
