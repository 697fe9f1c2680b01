// libFuzzer target: any bytes given as a job spec either parse or throw InputError; anything else
// (another exception, a crash, a sanitizer report, a stack overflow) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/input_error.hpp"
#include "spec/job_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    autolrs::spec::parse_job_spec(std::string_view(reinterpret_cast<const char*>(data), size), "/fuzz/job.json");
  } catch (const autolrs::spec::InputError&) {
  }
  return 0;
}
