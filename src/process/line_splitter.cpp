#include "process/line_splitter.hpp"

namespace autolrs::process {

void LineSplitter::feed(std::string_view chunk, const LineSink& on_line) {
  while (!chunk.empty()) {
    const std::size_t newline = chunk.find('\n');
    const bool line_ends = newline != std::string_view::npos;
    const std::string_view piece = chunk.substr(0, line_ends ? newline : chunk.size());
    chunk.remove_prefix(line_ends ? newline + 1 : chunk.size());

    if (m_discarding) {
      m_discarding = !line_ends;
      continue;
    }
    const std::size_t room = m_max_line - m_pending.size();
    if (piece.size() < room || (piece.size() == room && line_ends)) {
      m_pending.append(piece);
      if (line_ends) deliver(on_line);
      continue;
    }
    // The line reaches the cap: hand over its first m_max_line bytes now, drop the rest of it.
    m_pending.append(piece.substr(0, room));
    deliver(on_line);
    m_discarding = !line_ends;
  }
}

void LineSplitter::finish(const LineSink& on_line) {
  if (!m_pending.empty()) deliver(on_line);
  m_discarding = false;
}

void LineSplitter::deliver(const LineSink& on_line) {
  std::string_view line = m_pending;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  on_line(line);
  m_pending.clear();
}

}  // namespace autolrs::process
