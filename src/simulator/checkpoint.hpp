#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "simulator/simulator.hpp"

namespace autolrs::simulator {

/// What `autolrs simulate` saves: the task's identity and the complete run state.
///
/// Binary format, version 1, every integer and double little-endian (doubles as IEEE-754 bits):
///   offset 0   8 bytes  magic "ALRS-NQM"
///          8   u32      format version (1)
///         12   u32      n, length of the task name
///         16   n bytes  task name (UTF-8)
///              u64      task fingerprint (simulator::fingerprint)
///              u64      seed
///              i64      global step
///              u32      d, the dimension
///              d × f64  θ
///              d × f64  heavy-ball buffer v
///              u64      FNV-1a 64 checksum of every byte before it
/// The RNG needs no state beyond (seed, global step): the noise is counter-based.
struct Checkpoint {
  std::string task_name;
  std::uint64_t task_fingerprint = 0;
  State state;
};

std::string serialize_checkpoint(const Checkpoint& checkpoint);

/// Parses bytes written by serialize_checkpoint. Throws spec::InputError(`source`, reason) for a wrong
/// magic or version, a short or overlong file, or a checksum mismatch; `source` names the file.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& source);

}  // namespace autolrs::simulator
