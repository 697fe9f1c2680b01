#include "process/capped_log.hpp"

namespace autolrs::process {

void CappedLog::append(std::string_view bytes) {
  const std::size_t head = std::min(bytes.size(), m_head_left);
  if (head > 0) {
    m_write(bytes.substr(0, head));
    m_head_left -= head;
    bytes.remove_prefix(head);
  }
  if (bytes.empty()) return;
  m_tail.append(bytes);
  // Dropping a quarter of the limit at a time keeps the erasing linear in the bytes that pass.
  if (m_tail.size() > m_tail_limit + m_tail_limit / 4) {
    const std::size_t drop = m_tail.size() - m_tail_limit;
    m_tail.erase(0, drop);
    m_left_out += drop;
  }
}

void CappedLog::finish() {
  if (m_finished) return;
  m_finished = true;
  if (m_tail.size() > m_tail_limit) {
    const std::size_t drop = m_tail.size() - m_tail_limit;
    m_tail.erase(0, drop);
    m_left_out += drop;
  }
  if (m_left_out > 0) {
    m_write("\n[autolrs: " + std::to_string(m_left_out) + " bytes left out here; a log keeps the first and the last " +
            std::to_string(m_tail_limit) + " bytes of a stream]\n");
  }
  m_write(m_tail);
  m_tail.clear();
  m_tail.shrink_to_fit();
}

}  // namespace autolrs::process
