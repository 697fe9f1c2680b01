// libFuzzer target: the journal reader must take any bytes without crashing, hanging or leaking;
// a corrupt journal is reported as spec::InputError and nothing else, and a line that is JSON but no
// journal record is refused by decode_record with a JSON or argument error only.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "journal/json_lines_journal.hpp"
#include "spec/input_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const autolrs::journal::ParsedJournal parsed = autolrs::journal::parse_journal_text(text, "journal.jsonl");
    if (parsed.complete_bytes > size) __builtin_trap();
    for (const nlohmann::json& line : parsed.records) {
      try {
        autolrs::orchestrator::decode_record(line);
      } catch (const nlohmann::json::exception&) {
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const autolrs::spec::InputError&) {
  }
  return 0;
}
