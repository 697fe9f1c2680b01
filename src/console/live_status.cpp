#include "console/live_status.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace autolrs::console {

namespace {

constexpr const char* clear_line = "\r\033[K";
constexpr int bar_width = 20;

}  // namespace

std::string format_duration(double seconds) {
  const long total = seconds > 0 && std::isfinite(seconds) ? static_cast<long>(seconds) : 0;
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

std::string LiveStatusReporter::status_line() const {
  const double elapsed = m_elapsed_at_event_s + (m_clock.now_s() - m_clock_at_event_s);
  char text[160];
  std::snprintf(text, sizeof text, "%s  lr=%.3e", m_label.c_str(), m_lr);
  std::string line = text;
  if (m_loss) {
    std::snprintf(text, sizeof text, "  loss=%.4g", *m_loss);
    line += text;
  }
  if (m_forecast) {
    std::snprintf(text, sizeof text, "  forecast=%.4g", *m_forecast);
    line += text;
  }
  const double done = m_total_steps > 0 ? std::clamp(static_cast<double>(m_model_steps) / static_cast<double>(m_total_steps), 0.0, 1.0) : 0;
  const int filled = static_cast<int>(done * bar_width);
  line += "  [" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(bar_width - filled), '.') + "] ";
  std::snprintf(text, sizeof text, "%ld/%ld steps  %s", m_model_steps, m_total_steps, format_duration(elapsed).c_str());
  line += text;
  const long remaining = m_planned_compute_steps - m_compute_steps;
  if (m_compute_steps > 0 && remaining > 0) {
    line += "  ETA " + format_duration(elapsed * static_cast<double>(remaining) / static_cast<double>(m_compute_steps));
  }
  const std::size_t fits = static_cast<std::size_t>(std::max(m_columns - 1, 1));
  if (line.size() > fits) line.resize(fits);
  return line;
}

void LiveStatusReporter::take_state(const orchestrator::RunState& state) {
  m_model_steps = state.progress.model_steps;
  m_total_steps = state.job.total_steps;
  m_compute_steps = state.progress.model_steps + state.progress.probe_steps;
  m_elapsed_at_event_s = state.wall_time_s;
  m_clock_at_event_s = m_clock.now_s();
}

void LiveStatusReporter::redraw() {
  m_last_draw_s = m_clock.now_s();
  m_out << clear_line << status_line() << std::flush;
}

void LiveStatusReporter::on_launch_started(const search::LaunchRequest& request, int, const orchestrator::RunState& state) {
  take_state(state);
  m_label = launch_label(request, state) + retry_text(request, state);
  m_lr = request.lr;
  m_loss.reset();
  m_forecast.reset();
  redraw();
}

void LiveStatusReporter::on_loss(const search::LaunchRequest&, bool is_val, double loss) {
  if (is_val) return;
  m_loss = loss;
  if (m_last_draw_s && m_clock.now_s() - *m_last_draw_s < m_min_redraw_s) return;
  redraw();
}

void LiveStatusReporter::on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  take_state(state);
  if (const std::optional<double> forecast = probe_forecast(report.request, state)) m_forecast = forecast;
  m_out << clear_line;
  m_plain.on_launch_finished(report, state);
  redraw();
}

void LiveStatusReporter::on_warning(const std::string& message, const orchestrator::RunState& state) {
  m_out << clear_line;
  m_plain.on_warning(message, state);
  redraw();
}

void LiveStatusReporter::on_run_finished(const orchestrator::RunState& state) {
  m_out << clear_line;
  m_plain.on_run_finished(state);
}

}  // namespace autolrs::console
