#include "simulator/checkpoint.hpp"

#include <bit>

#include "spec/input_error.hpp"

namespace autolrs::simulator {

namespace {

constexpr std::string_view magic = "ALRS-NQM";
constexpr std::uint32_t format_version = 1;
/// Refuses absurd dimensions before allocating for them (a corrupt length field).
constexpr std::uint32_t max_dimension = 1u << 24;

/// FNV-1a, 64-bit (Fowler, Noll and Vo).
std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

/// Reads fields in order; every read checks the remaining length.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& source) : m_bytes(bytes), m_source(source) {}

  std::uint64_t unsigned_le(int bytes) {
    std::string_view raw = take(static_cast<std::size_t>(bytes));
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= std::uint64_t(static_cast<unsigned char>(raw[i])) << (8 * i);
    return value;
  }
  double real() { return std::bit_cast<double>(unsigned_le(8)); }
  std::string_view take(std::size_t count) {
    if (m_bytes.size() - m_offset < count) fail("truncated checkpoint (" + std::to_string(m_bytes.size()) + " bytes)");
    std::string_view raw = m_bytes.substr(m_offset, count);
    m_offset += count;
    return raw;
  }
  std::size_t offset() const { return m_offset; }
  [[noreturn]] void fail(const std::string& reason) const { throw spec::InputError(m_source, reason); }

 private:
  std::string_view m_bytes;
  const std::string& m_source;
  std::size_t m_offset = 0;
};

}  // namespace

std::string serialize_checkpoint(const Checkpoint& checkpoint) {
  const State& state = checkpoint.state;
  std::string out(magic);
  put_le(out, format_version, 4);
  put_le(out, checkpoint.task_name.size(), 4);
  out += checkpoint.task_name;
  put_le(out, checkpoint.task_fingerprint, 8);
  put_le(out, state.seed, 8);
  put_le(out, static_cast<std::uint64_t>(state.global_step), 8);
  put_le(out, state.theta.size(), 4);
  for (double value : state.theta) put_le(out, std::bit_cast<std::uint64_t>(value), 8);
  for (double value : state.velocity) put_le(out, std::bit_cast<std::uint64_t>(value), 8);
  put_le(out, fnv1a64(out), 8);
  return out;
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& source) {
  Reader reader(bytes, source);
  if (bytes.size() < magic.size() || reader.take(magic.size()) != magic) {
    reader.fail("not an autolrs simulator checkpoint (bad magic)");
  }
  const std::uint64_t version = reader.unsigned_le(4);
  if (version != format_version) {
    reader.fail("unsupported checkpoint version " + std::to_string(version) + " (expected 1)");
  }
  Checkpoint checkpoint;
  const std::uint64_t name_length = reader.unsigned_le(4);
  checkpoint.task_name = std::string(reader.take(name_length));
  checkpoint.task_fingerprint = reader.unsigned_le(8);
  checkpoint.state.seed = reader.unsigned_le(8);
  checkpoint.state.global_step = static_cast<std::int64_t>(reader.unsigned_le(8));
  const std::uint64_t dimension = reader.unsigned_le(4);
  if (dimension > max_dimension) reader.fail("implausible dimension " + std::to_string(dimension));
  if (bytes.size() - reader.offset() != 16 * dimension + 8) {
    reader.fail("expected " + std::to_string(reader.offset() + 16 * dimension + 8) + " bytes, got " +
                std::to_string(bytes.size()));
  }
  for (std::uint64_t i = 0; i < dimension; ++i) checkpoint.state.theta.push_back(reader.real());
  for (std::uint64_t i = 0; i < dimension; ++i) checkpoint.state.velocity.push_back(reader.real());
  const std::uint64_t expected_checksum = fnv1a64(bytes.substr(0, reader.offset()));
  if (reader.unsigned_le(8) != expected_checksum) reader.fail("checksum mismatch (corrupt checkpoint)");
  if (checkpoint.state.global_step < 0) reader.fail("negative global step");
  return checkpoint;
}

}  // namespace autolrs::simulator
