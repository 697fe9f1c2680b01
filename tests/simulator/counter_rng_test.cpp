#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "simulator/counter_rng.hpp"

using autolrs::simulator::fill_standard_normals;
using autolrs::simulator::mix64;

namespace {

std::vector<double> draws(std::uint64_t seed, std::int64_t step, std::size_t count) {
  std::vector<double> out(count);
  fill_standard_normals(seed, step, out);
  return out;
}

}  // namespace

TEST_CASE("simulator::mix64 is SplitMix64's output function") {
  // Reference values: the first outputs of SplitMix64 seeded with 0 are mix64(k·0x9e3779b97f4a7c15).
  CHECK(mix64(0x9e3779b97f4a7c15ULL) == 0xe220a8397b1dcdafULL);
  CHECK(mix64(2 * 0x9e3779b97f4a7c15ULL) == 0x6e789e6aa1b965f4ULL);
}

TEST_CASE("simulator::fill_standard_normals depends only on seed, step and position") {
  SUBCASE("the same seed and step replay the same draws") { CHECK(draws(7, 42, 11) == draws(7, 42, 11)); }
  SUBCASE("a longer request extends a shorter one past its last whole pair") {
    const std::vector<double> shorter = draws(7, 42, 10);
    const std::vector<double> longer = draws(7, 42, 13);
    CHECK(std::vector<double>(longer.begin(), longer.begin() + 10) == shorter);
  }
  SUBCASE("another step or seed gives other draws") {
    CHECK(draws(7, 42, 4) != draws(7, 43, 4));
    CHECK(draws(7, 42, 4) != draws(8, 42, 4));
  }
}

TEST_CASE("simulator::fill_standard_normals draws have mean 0 and variance 1") {
  // 2·10^5 draws over 200 steps: the standard errors are 0.0022 (mean) and 0.0032 (variance).
  double sum = 0, sum_sq = 0;
  long count = 0;
  for (std::int64_t step = 1; step <= 200; ++step) {
    for (double z : draws(3, step, 1000)) {
      sum += z;
      sum_sq += z * z;
      ++count;
    }
  }
  const double mean = sum / count;
  CHECK(std::abs(mean) < 0.01);
  CHECK(std::abs(sum_sq / count - mean * mean - 1.0) < 0.015);
}
