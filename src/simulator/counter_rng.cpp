#include "simulator/counter_rng.hpp"

#include <cmath>
#include <numbers>

namespace autolrs::simulator {

namespace {

constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

/// A uniform draw in (0, 1] from the top 53 bits (never 0, so its log is finite).
double open_unit(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void fill_standard_normals(std::uint64_t seed, std::int64_t step, std::span<double> out) {
  std::uint64_t state = mix64(seed ^ mix64(static_cast<std::uint64_t>(step) + golden_gamma));
  for (std::size_t i = 0; i < out.size(); i += 2) {
    state += golden_gamma;
    const double u1 = open_unit(mix64(state));
    state += golden_gamma;
    const double u2 = open_unit(mix64(state));
    // Box–Muller: r·cos and r·sin of a uniform angle are independent N(0, 1).
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    out[i] = radius * std::cos(angle);
    if (i + 1 < out.size()) out[i + 1] = radius * std::sin(angle);
  }
}

}  // namespace autolrs::simulator
