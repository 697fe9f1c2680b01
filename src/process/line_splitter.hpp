#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace autolrs::process {

/// Longest line handed to a line observer, in bytes; a longer line is cut to this length.
inline constexpr std::size_t max_line_bytes = std::size_t{1} << 20;

/// Splits a byte stream that arrives in arbitrary chunks into lines without their '\n' and without
/// one trailing '\r'. Memory stays bounded by `max_line` whatever the input: a line reaching
/// `max_line` bytes is delivered at once, cut to `max_line` bytes, and the rest of it up to the next
/// '\n' is dropped. Exposed for testing; the launcher keeps one per output stream.
class LineSplitter {
 public:
  using LineSink = std::function<void(std::string_view line)>;

  LineSplitter() = default;
  explicit LineSplitter(std::size_t max_line) : m_max_line(max_line) {}

  /// Consumes the next chunk of the stream, calling `on_line` for every line it completes.
  void feed(std::string_view chunk, const LineSink& on_line);
  /// The stream ended: delivers a pending partial line (one without a final '\n'), if any.
  void finish(const LineSink& on_line);

 private:
  void deliver(const LineSink& on_line);

  std::size_t m_max_line = max_line_bytes;
  std::string m_pending;      ///< bytes of the current line so far, at most m_max_line
  bool m_discarding = false;  ///< the current line was already delivered cut; drop up to '\n'
};

}  // namespace autolrs::process
