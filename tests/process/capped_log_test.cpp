#include "process/capped_log.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace autolrs::process {
namespace {

/// The bytes a CappedLog of `limit` writes for `chunks`, then finish().
std::string kept(std::size_t limit, const std::vector<std::string>& chunks) {
  std::string written;
  CappedLog log(limit, [&](std::string_view bytes) { written.append(bytes); });
  for (const std::string& chunk : chunks) log.append(chunk);
  log.finish();
  log.finish();  // a second finish writes nothing
  return written;
}

TEST_CASE("process::CappedLog keeps a stream within its limit whole") {
  CHECK(kept(10, {}) == "");
  CHECK(kept(10, {"abc", "defg", "hij"}) == "abcdefghij");
  CHECK(kept(10, {"abcdefghij"}) == "abcdefghij");
}

TEST_CASE("process::CappedLog keeps the first and the last half of a longer stream, and says how much it left out") {
  const std::string marker = "\n[autolrs: 6 bytes left out here; a log keeps the first and the last 5 bytes of a stream]\n";
  // 16 bytes, limit 10: "01234" kept at once, "abcdef" left out, "VWXYZ" kept at the end, whatever the chunking.
  CHECK(kept(10, {"01234abcdefVWXYZ"}) == "01234" + marker + "VWXYZ");
  CHECK(kept(10, {"012", "34abc", "d", "efVW", "XYZ"}) == "01234" + marker + "VWXYZ");
  std::vector<std::string> bytes;
  for (char c : std::string("01234abcdefVWXYZ")) bytes.emplace_back(1, c);
  CHECK(kept(10, bytes) == "01234" + marker + "VWXYZ");
}

TEST_CASE("process::CappedLog holds little more than half its limit however long the stream") {
  std::string written;
  CappedLog log(1000, [&](std::string_view bytes) { written.append(bytes); });
  const std::string chunk(100, 'x');
  for (int i = 0; i < 100'000; ++i) log.append(chunk);  // 10 MB
  CHECK(written.size() == 500);                          // the head, so far
  CHECK(log.left_out() >= 10'000'000 - 500 - 625 - 100);  // the tail holds at most 1.25 × 500 + a chunk
  log.append("THE END");
  log.finish();
  CHECK(log.left_out() == 10'000'007 - 1000);
  CHECK(written.size() == 1000 + std::string("\n[autolrs: 9999007 bytes left out here; a log keeps the first and the last 500 bytes of a stream]\n").size());
  CHECK(written.substr(written.size() - 7) == "THE END");
}

TEST_CASE("process::CappedLog passes a failed write through") {
  CappedLog log(4, [](std::string_view) { throw std::runtime_error("cannot write log"); });
  CHECK_THROWS_WITH(log.append("ab"), "cannot write log");
}

}  // namespace
}  // namespace autolrs::process
