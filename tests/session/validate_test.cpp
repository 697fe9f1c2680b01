#include "session/validate.hpp"

#include <string>
#include <utility>

#include <doctest/doctest.h>

using autolrs::session::shell_quote;

TEST_CASE("session::shell_quote leaves safe words alone and single-quotes the rest") {
  const std::pair<std::string, std::string> cases[] = {
      {"--lr", "--lr"},
      {"/usr/bin/python3", "/usr/bin/python3"},
      {"OMP_NUM_THREADS=1", "OMP_NUM_THREADS=1"},
      {"", "''"},
      {"a b", "'a b'"},
      {"it's", "'it'\\''s'"},
      {"$HOME", "'$HOME'"},
      {"x*", "'x*'"},
  };
  for (const auto& [argument, quoted] : cases) {
    CAPTURE(argument);
    CHECK(shell_quote(argument) == quoted);
  }
}

