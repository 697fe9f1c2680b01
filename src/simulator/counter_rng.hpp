#pragma once

#include <cstdint>
#include <span>

namespace autolrs::simulator {

/// SplitMix64's output function (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): a bijective 64-bit mixer with full avalanche.
std::uint64_t mix64(std::uint64_t x);

/// Fills `out` with independent standard normal draws that depend only on (seed, step) and the
/// position in `out`: a counter-based generator, so the draws of any step can be replayed without
/// replaying the steps before it. Draw 2k and 2k+1 come from one Box–Muller transform of the k-th
/// pair of uniforms of the SplitMix64 stream started at mix64(seed ^ mix64(step)).
void fill_standard_normals(std::uint64_t seed, std::int64_t step, std::span<double> out);

}  // namespace autolrs::simulator
