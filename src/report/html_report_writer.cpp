#include "report/html_report_writer.hpp"

#include "report/html_report.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::report {

void HtmlReportWriter::on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  const bool main_launch = report.request.kind != search::LaunchKind::probe;
  if (main_launch || !m_last_write_s || m_clock.now_s() - *m_last_write_s >= m_min_interval_s) write(state);
}

void HtmlReportWriter::on_run_finished(const orchestrator::RunState& state) { write(state); }

void HtmlReportWriter::write(const orchestrator::RunState& state) {
  storage::write_file_atomically(m_path, render_html_report(state));
  m_last_write_s = m_clock.now_s();
}

}  // namespace autolrs::report
