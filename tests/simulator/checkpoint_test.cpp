#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "simulator/checkpoint.hpp"
#include "spec/input_error.hpp"

using namespace autolrs::simulator;

namespace {

Checkpoint sample_checkpoint() {
  Checkpoint checkpoint;
  checkpoint.task_name = "quadratic";
  checkpoint.task_fingerprint = 0x0123456789abcdefULL;
  checkpoint.state.seed = 0xfedcba9876543210ULL;
  checkpoint.state.global_step = 4321;
  checkpoint.state.theta = {1.5, -0.0, std::numeric_limits<double>::quiet_NaN()};
  checkpoint.state.velocity = {std::numeric_limits<double>::infinity(), 1e-300, -2.25};
  return checkpoint;
}

std::string error_of(std::string_view bytes) {
  try {
    parse_checkpoint(bytes, "ckpt");
  } catch (const autolrs::spec::InputError& e) {
    CHECK(e.field() == "ckpt");
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("simulator::serialize_checkpoint writes the documented layout") {
  const std::string bytes = serialize_checkpoint(sample_checkpoint());
  // magic 8 + version 4 + name length 4 + name 9 + fingerprint 8 + seed 8 + step 8 + d 4 + 2·3·8 + checksum 8
  CHECK(bytes.size() == 8 + 4 + 4 + 9 + 8 + 8 + 8 + 4 + 48 + 8);
  CHECK(bytes.substr(0, 8) == "ALRS-NQM");
  CHECK(bytes.substr(8, 4) == std::string("\x01\x00\x00\x00", 4));
  CHECK(bytes.substr(12, 4) == std::string("\x09\x00\x00\x00", 4));
  CHECK(bytes.substr(16, 9) == "quadratic");
  CHECK(bytes.substr(25, 8) == std::string("\xef\xcd\xab\x89\x67\x45\x23\x01", 8));
  CHECK(bytes.substr(41, 8) == std::string("\xe1\x10\x00\x00\x00\x00\x00\x00", 8));  // 4321
  CHECK(bytes.substr(53, 8) == std::string("\x00\x00\x00\x00\x00\x00\xf8\x3f", 8));  // 1.5
}

TEST_CASE("simulator::parse_checkpoint restores every bit of the state") {
  const Checkpoint original = sample_checkpoint();
  const Checkpoint restored = parse_checkpoint(serialize_checkpoint(original), "ckpt");
  CHECK(restored.task_name == original.task_name);
  CHECK(restored.task_fingerprint == original.task_fingerprint);
  CHECK(restored.state.seed == original.state.seed);
  CHECK(restored.state.global_step == original.state.global_step);
  CHECK(serialize_checkpoint(restored) == serialize_checkpoint(original));
  CHECK(std::signbit(restored.state.theta[1]));
  CHECK(std::isnan(restored.state.theta[2]));
}

TEST_CASE("simulator::parse_checkpoint rejects damaged files with a reason") {
  const std::string bytes = serialize_checkpoint(sample_checkpoint());
  SUBCASE("every truncation") {
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      CAPTURE(length);
      CHECK_FALSE(error_of(bytes.substr(0, length)).empty());
    }
    CHECK(error_of("") == "ckpt: not an autolrs simulator checkpoint (bad magic)");
    CHECK(error_of(bytes.substr(0, bytes.size() / 2)) == "ckpt: expected 109 bytes, got 54");
  }
  SUBCASE("extra bytes") { CHECK(error_of(bytes + "x") == "ckpt: expected 109 bytes, got 110"); }
  SUBCASE("a flipped bit in the payload") {
    std::string corrupt = bytes;
    corrupt[70] ^= 0x10;
    CHECK(error_of(corrupt) == "ckpt: checksum mismatch (corrupt checkpoint)");
  }
  SUBCASE("another magic or version") {
    std::string other_magic = bytes;
    other_magic[0] = 'X';
    CHECK(error_of(other_magic) == "ckpt: not an autolrs simulator checkpoint (bad magic)");
    std::string other_version = bytes;
    other_version[8] = 2;
    CHECK(error_of(other_version) == "ckpt: unsupported checkpoint version 2 (expected 1)");
  }
  SUBCASE("an implausible dimension") {
    std::string huge = bytes;
    huge[52] = '\x7f';
    CHECK(error_of(huge) == "ckpt: implausible dimension 2130706435");
  }
}
