#include "session/validate.hpp"

#include <string>
#include <utility>
#include <vector>

#include "spec/job_spec.hpp"

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


TEST_CASE("session::job_warnings warns of a probe_fraction too small to probe any stage, and of nothing else") {
  autolrs::spec::JobSpec job;
  job.search.first_stage_steps = 1000;
  job.search.max_stage_steps = 8000;
  CHECK(autolrs::session::job_warnings(job).empty());  // τ′ = 100
  job.search.probe_fraction = 1e-9;
  CHECK(autolrs::session::job_warnings(job) ==
        std::vector<std::string>{"search.probe_fraction 1e-09 makes probes of 1 step(s) in the first stage (1 at most); a "
                                 "stage whose probes would be shorter than 3 steps is trained at a guessed LR without "
                                 "probes: no stage is probed"});
  job.search.probe_fraction = 0.001;  // τ′ = 1 in the first stage, 8 in the longest
  REQUIRE(autolrs::session::job_warnings(job).size() == 1);
  CHECK(autolrs::session::job_warnings(job)[0].find("the first stages are not probed") != std::string::npos);
}
