#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace autolrs::process {

/// What a launch's log file keeps of a stream of any length: every byte while the stream stays within
/// `limit` bytes; beyond it, the first limit/2 bytes as they arrive and the last limit/2 bytes, written
/// when the stream ends after one line that says how many bytes between them were left out. Memory
/// stays below 1.25 × limit/2 plus one chunk, whatever the stream's length. The trainer's last
/// words (a traceback, the final losses) are at the end, so the end is what is kept.
class CappedLog {
 public:
  using Sink = std::function<void(std::string_view bytes)>;

  /// `write` receives the kept bytes in order; it may throw (a failed write), which passes through.
  CappedLog(std::size_t limit, Sink write) : m_head_left(limit / 2), m_tail_limit(limit - limit / 2), m_write(std::move(write)) {}

  /// The next bytes of the stream.
  void append(std::string_view bytes);
  /// The stream ended: writes the kept end. Later calls do nothing.
  void finish();

  /// Bytes left out so far (those dropped from the tail that finish will not write).
  unsigned long long left_out() const { return m_left_out; }

 private:
  std::size_t m_head_left;
  std::size_t m_tail_limit;
  Sink m_write;
  std::string m_tail;  ///< bytes after the head, the oldest dropped once it passes 1.25 × m_tail_limit
  unsigned long long m_left_out = 0;
  bool m_finished = false;
};

}  // namespace autolrs::process
