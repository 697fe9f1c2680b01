// libFuzzer target: the journal reader must take any bytes without crashing, hanging or leaking;
// a corrupt journal is reported as spec::InputError and nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "journal/json_lines_journal.hpp"
#include "spec/input_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const autolrs::journal::ParsedJournal parsed = autolrs::journal::parse_journal_text(text, "journal.jsonl");
    if (parsed.complete_bytes > size) __builtin_trap();
  } catch (const autolrs::spec::InputError&) {
  }
  return 0;
}
