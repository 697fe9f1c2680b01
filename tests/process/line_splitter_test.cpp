#include "process/line_splitter.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace autolrs::process {
namespace {

/// Feeds `chunks` in order, then finishes, and returns the lines delivered.
std::vector<std::string> split(const std::vector<std::string>& chunks, std::size_t max_line = max_line_bytes) {
  LineSplitter splitter(max_line);
  std::vector<std::string> lines;
  const LineSplitter::LineSink collect = [&](std::string_view line) { lines.emplace_back(line); };
  for (const std::string& chunk : chunks) splitter.feed(chunk, collect);
  splitter.finish(collect);
  return lines;
}

struct Case {
  const char* name;
  std::vector<std::string> chunks;
  std::vector<std::string> lines;
};

TEST_CASE("process::LineSplitter splits chunks into lines") {
  for (const Case& c : std::vector<Case>{
           {"one line", {"loss 1.5\n"}, {"loss 1.5"}},
           {"several lines in one chunk", {"a\nb\nc\n"}, {"a", "b", "c"}},
           {"a line across chunks", {"lo", "ss ", "1.5\nne", "xt\n"}, {"loss 1.5", "next"}},
           {"one trailing carriage return is stripped", {"a\r\n", "b\r\r\n"}, {"a", "b\r"}},
           {"carriage returns inside stay", {"10%\r20%\r\n"}, {"10%\r20%"}},
           {"empty lines", {"\n\n"}, {"", ""}},
           {"a partial last line is delivered at the end", {"a\nb"}, {"a", "b"}},
           {"a partial last line loses its carriage return", {"b\r"}, {"b"}},
           {"nothing", {}, {}},
           {"binary bytes pass through", {std::string("\0\xff\n", 3)}, {std::string("\0\xff", 2)}},
       }) {
    CAPTURE(c.name);
    CHECK(split(c.chunks) == c.lines);
  }
}

TEST_CASE("process::LineSplitter cuts long lines to the cap and drops their rest") {
  for (const Case& c : std::vector<Case>{
           {"a line of exactly the cap is whole", {"abcd\nx\n"}, {"abcd", "x"}},
           {"a longer line is cut", {"abcdef\nx\n"}, {"abcd", "x"}},
           {"the rest is dropped across chunks", {"abc", "def", "ghi", "jk\nx\n"}, {"abcd", "x"}},
           {"a line at the cap whose newline comes later", {"abcd", "\nx\n"}, {"abcd", "x"}},
           {"a cut line without newline is delivered once", {"abcdefgh"}, {"abcd"}},
           {"lines after a cut line are whole", {"abcdefgh\nab\nabcdefgh\n"}, {"abcd", "ab", "abcd"}},
       }) {
    CAPTURE(c.name);
    CHECK(split(c.chunks, 4) == c.lines);
  }
}

}  // namespace
}  // namespace autolrs::process
