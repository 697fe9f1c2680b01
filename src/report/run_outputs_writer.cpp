#include "report/run_outputs_writer.hpp"

#include <cerrno>
#include <system_error>

#include "orchestrator/run_summary.hpp"
#include "storage/atomic_file.hpp"

namespace autolrs::report {

void RunOutputsWriter::on_launch_finished(const orchestrator::LaunchReport&, const orchestrator::RunState& state) {
  write(state);
}

void RunOutputsWriter::on_run_finished(const orchestrator::RunState& state) { write(state); }

void RunOutputsWriter::write(const orchestrator::RunState& state) {
  // summary.json first: when autolrs stops on a write error, it still says why if it can.
  storage::write_file_atomically(m_run_dir + "/summary.json", orchestrator::run_summary(state).dump(2) + "\n");
  storage::write_file_atomically(m_run_dir + "/schedule.csv", orchestrator::schedule_csv(state));
  const std::string path = m_run_dir + "/losses.csv";
  errno = 0;
  if (!m_losses.is_open()) {
    m_losses.open(path, std::ios::binary | std::ios::trunc);
    if (!m_losses) throw std::system_error(errno, std::generic_category(), "cannot write " + path);
    m_losses << orchestrator::loss_csv_header;
  }
  for (; m_launches_written < state.launches.size(); ++m_launches_written) {
    m_losses << orchestrator::loss_csv_rows(state.launches[m_launches_written]);
  }
  m_losses.flush();
  if (!m_losses) throw std::system_error(errno, std::generic_category(), "cannot write " + path);
}

}  // namespace autolrs::report
