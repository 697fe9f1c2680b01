#include "journal/json_lines_journal.hpp"

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>

#include "spec/input_error.hpp"
#include "support/temp_dir.hpp"

namespace autolrs::journal {
namespace {

using nlohmann::json;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

TEST_CASE("journal::parse_journal_text reads complete lines and ignores a torn last line") {
  struct Case {
    const char* name;
    std::string text;
    std::vector<json> records;
    std::size_t complete_bytes;
  };
  for (const Case& c : std::vector<Case>{
           {"empty text", "", {}, 0},
           {"two records", "{\"a\":1}\n[2]\n", {json{{"a", 1}}, json::array({2})}, 12},
           {"a last line without newline is torn even if it parses", "{\"a\":1}\n{\"b\":2}", {json{{"a", 1}}}, 8},
           {"a cut last record", "{\"a\":1}\n{\"b\":", {json{{"a", 1}}}, 8},
           {"an unparsable last line with newline is torn", "{\"a\":1}\n{\"b\n", {json{{"a", 1}}}, 8},
           {"zeros left by a crash", std::string("{\"a\":1}\n\0\0\0", 11), {json{{"a", 1}}}, 8},
           {"only a torn line", "{\"a\"", {}, 0},
           {"carriage returns are whitespace", "{\"a\":1}\r\n", {json{{"a", 1}}}, 9},
       }) {
    CAPTURE(c.name);
    const ParsedJournal parsed = parse_journal_text(c.text, "journal.jsonl");
    CHECK(parsed.records == c.records);
    CHECK(parsed.complete_bytes == c.complete_bytes);
  }
}

TEST_CASE("journal::parse_journal_text names the line of a corrupt record before the last") {
  struct Case {
    const char* name;
    std::string text;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {"garbage in the middle", "{\"a\":1}\n{\"a\":2}\nnot json\n{\"a\":3}\n", "journal.jsonl:3"},
           {"an empty line in the middle", "{\"a\":1}\n\n{\"a\":3}\n", "journal.jsonl:2"},
           {"a cut record followed by another", "{\"a\":\n{\"a\":3}\n", "journal.jsonl:1"},
           {"a number out of range", "{\"a\":1}\n{\"a\":1e999}\n{\"a\":3}\n", "journal.jsonl:2"},
       }) {
    CAPTURE(c.name);
    try {
      parse_journal_text(c.text, "journal.jsonl");
      FAIL("no error");
    } catch (const spec::InputError& error) {
      CHECK(error.field() == c.field);
      CHECK(std::string(error.what()).find(c.field + ": corrupt record (") == 0);
    }
  }
}

using orchestrator::FinishedRecord;
using orchestrator::IssuedRecord;
using orchestrator::JournalRecord;
using orchestrator::StartedRecord;

/// Records compared through their one JSON form.
std::vector<json> encoded(const std::vector<JournalRecord>& records) {
  std::vector<json> lines;
  for (const JournalRecord& record : records) lines.push_back(orchestrator::encode_record(record));
  return lines;
}

const JournalRecord started{StartedRecord{json{{"spec", {{"name", "x"}}}, {"dry_run", false}}}};
const JournalRecord issued{IssuedRecord{2, {search::LaunchRequest{search::LaunchKind::probe, 0, 1, 0, 0.1, 10, 0}}}};
const JournalRecord finished{FinishedRecord{orchestrator::RunStatus::completed}};

TEST_CASE("journal::JsonLinesJournal round-trips records through the file, one compact line each") {
  TempDir dir;
  {
    JsonLinesJournal journal(dir.path().string());
    journal.append(started);
    journal.append(issued);
    CHECK(encoded(journal.read_all()) == encoded({started, issued}));
  }
  CHECK(read_text(dir / "journal.jsonl") ==
        "{\"identity\":{\"dry_run\":false,\"spec\":{\"name\":\"x\"}},\"type\":\"started\"}\n"
        "{\"free_slots\":2,\"launches\":[{\"attempt\":0,\"decay_tail\":false,\"from_probe\":-1,\"kind\":\"probe\","
        "\"lr\":0.1,\"probe\":1,\"stage\":0,\"start_step\":0,\"steps\":10}],\"type\":\"issued\"}\n");

  SUBCASE("a reopened journal reads them and appends after them") {
    JsonLinesJournal reopened(dir.path().string());
    CHECK(encoded(reopened.read_all()) == encoded({started, issued}));
    reopened.append(finished);
    CHECK(encoded(reopened.read_all()) == encoded({started, issued, finished}));
  }
}

TEST_CASE("journal::JsonLinesJournal stores a result's paths relative to the run dir, and reads them under the run dir as it is now") {
  TempDir dir;
  const std::filesystem::path original = dir / "original";
  std::filesystem::create_directories(original);
  orchestrator::ResultRecord result;
  result.report.request.kind = search::LaunchKind::stage;
  result.report.request.stage = 0;
  result.report.request.steps = 10;
  result.report.outcome.status = search::OutcomeStatus::succeeded;
  result.report.checkpoint = (original / "checkpoints" / "step-000000010").string();
  result.report.stdout_log = (original / "logs" / "stage-000.stdout.log").string();
  result.report.stderr_log = "/elsewhere/stage-000.stderr.log";  // outside the run dir: kept as it is
  JsonLinesJournal(original.string()).append(result);
  const std::string line = read_text(original / "journal.jsonl");
  CHECK(line.find("\"checkpoint\":\"checkpoints/step-000000010\"") != std::string::npos);
  CHECK(line.find("\"stdout_log\":\"logs/stage-000.stdout.log\"") != std::string::npos);
  CHECK(line.find("\"stderr_log\":\"/elsewhere/stage-000.stderr.log\"") != std::string::npos);

  std::filesystem::rename(original, dir / "moved");
  std::filesystem::create_directory_symlink(dir / "moved", dir / "link");
  for (const std::filesystem::path& now : {dir / "moved", dir / "link"}) {
    CAPTURE(now);
    const std::vector<orchestrator::JournalRecord> records = JsonLinesJournal(now.string()).read_all();
    REQUIRE(records.size() == 1);
    const orchestrator::LaunchReport& read = std::get<orchestrator::ResultRecord>(records[0]).report;
    CHECK(read.checkpoint == (now / "checkpoints" / "step-000000010").string());
    CHECK(read.stdout_log == (now / "logs" / "stage-000.stdout.log").string());
    CHECK(read.stderr_log == "/elsewhere/stage-000.stderr.log");
  }
}

TEST_CASE("journal::JsonLinesJournal without a file is empty and creates nothing until an append") {
  TempDir dir;
  JsonLinesJournal journal(dir.path().string());
  CHECK(journal.read_all().empty());
  CHECK_FALSE(std::filesystem::exists(dir / "journal.jsonl"));
  SUBCASE("an empty file is an empty journal too") {
    write_text(dir / "journal.jsonl", "");
    CHECK(journal.read_all().empty());
  }
}

TEST_CASE("journal::JsonLinesJournal creates its file with the first record in it, and only the file") {
  // Made atomically (a temporary file renamed into place): a reader never finds the journal empty.
  TempDir dir;
  JsonLinesJournal journal(dir.path().string());
  journal.append(started);
  const std::string first = orchestrator::encode_record(started).dump() + "\n";
  CHECK(read_text(dir / "journal.jsonl") == first);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  CHECK(names == std::vector<std::string>{"journal.jsonl"});
  journal.append(finished);
  CHECK(read_text(dir / "journal.jsonl") == first + "{\"status\":\"completed\",\"type\":\"finished\"}\n");
}

TEST_CASE("journal::JsonLinesJournal cuts a torn tail before appending") {
  TempDir dir;
  const std::string first = orchestrator::encode_record(started).dump() + "\n";
  write_text(dir / "journal.jsonl", first + "{\"type\":\"issued\",\"free_slots\":[1,");
  JsonLinesJournal journal(dir.path().string());
  CHECK(encoded(journal.read_all()) == encoded({started}));

  journal.append(finished);
  CHECK(read_text(dir / "journal.jsonl") == first + "{\"status\":\"completed\",\"type\":\"finished\"}\n");
  CHECK(encoded(journal.read_all()) == encoded({started, finished}));
}

TEST_CASE("journal::JsonLinesJournal refuses to append to a corrupt journal") {
  TempDir dir;
  const std::string line = orchestrator::encode_record(started).dump() + "\n";
  const std::string corrupt = line + "garbage\n" + line;
  write_text(dir / "journal.jsonl", corrupt);
  JsonLinesJournal journal(dir.path().string());
  CHECK_THROWS_WITH_AS(journal.read_all(), doctest::Contains("journal.jsonl:2: corrupt record"), spec::InputError);
  CHECK_THROWS_AS(journal.append(finished), spec::InputError);
  CHECK(read_text(dir / "journal.jsonl") == corrupt);
}

TEST_CASE("journal::JsonLinesJournal names the line of a record that is JSON but no journal record") {
  struct Case {
    const char* name;
    std::string line;
  };
  for (const Case& c : std::vector<Case>{
           {"no type", "{\"identity\":{}}"},
           {"an unknown type", "{\"type\":\"paused\"}"},
           {"a result without its outcome",
            "{\"type\":\"result\",\"launch\":{\"kind\":\"stage\",\"stage\":0,\"probe\":-1,\"attempt\":0,\"lr\":0.1,"
            "\"steps\":10,\"start_step\":0},\"wall_s\":1,\"elapsed_s\":2,\"checkpoint\":\"\",\"stdout_log\":\"\",\"stderr_log\":\"\"}"},
           {"a status no run ends with", "{\"type\":\"finished\",\"status\":\"running\"}"},
           {"an array", "[1,2]"},
           {"a number", "42"},
           {"a launch that is a number", "{\"type\":\"issued\",\"free_slots\":1,\"launches\":[42]}"},
       }) {
    CAPTURE(c.name);
    TempDir dir;
    write_text(dir / "journal.jsonl", orchestrator::encode_record(started).dump() + "\n" + c.line + "\n");
    CHECK_THROWS_WITH_AS(JsonLinesJournal(dir.path().string()).read_all(), doctest::Contains("journal.jsonl:2: malformed record: "),
                         spec::InputError);
  }
}

TEST_CASE("journal::JsonLinesJournal writes invalid UTF-8 as replacement characters") {
  TempDir dir;
  JsonLinesJournal journal(dir.path().string());
  journal.append(StartedRecord{json{{"line", std::string("loss \xff\xfe 1.5")}}});
  const std::vector<JournalRecord> records = journal.read_all();
  REQUIRE(records.size() == 1);
  CHECK(std::get<StartedRecord>(records[0]).identity == json{{"line", "loss \xef\xbf\xbd\xef\xbf\xbd 1.5"}});
}

TEST_CASE("journal::JsonLinesJournal reports a run dir it cannot write") {
  TempDir dir;
  JsonLinesJournal journal((dir / "missing").string());
  CHECK(journal.read_all().empty());
  CHECK_THROWS_AS(journal.append(started), std::system_error);
}

}  // namespace
}  // namespace autolrs::journal
