#include "journal/json_lines_journal.hpp"

#include <string>
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

TEST_CASE("journal::JsonLinesJournal round-trips records through the file") {
  TempDir dir;
  const std::vector<json> records{json{{"kind", "probe"}, {"lr", 0.1}, {"losses", {2.5, 2.25}}},
                                  json{{"kind", "stage"}, {"note", "line\nbreak"}}};
  {
    JsonLinesJournal journal(dir.path().string());
    for (const json& record : records) journal.append(record);
    CHECK(journal.read_all() == records);
  }
  CHECK(read_text(dir / "journal.jsonl") ==
        "{\"kind\":\"probe\",\"losses\":[2.5,2.25],\"lr\":0.1}\n{\"kind\":\"stage\",\"note\":\"line\\nbreak\"}\n");

  SUBCASE("a reopened journal reads them and appends after them") {
    JsonLinesJournal reopened(dir.path().string());
    CHECK(reopened.read_all() == records);
    reopened.append(json{{"kind", "done"}});
    CHECK(reopened.read_all().size() == 3);
    CHECK(reopened.read_all().back() == json{{"kind", "done"}});
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

TEST_CASE("journal::JsonLinesJournal cuts a torn tail before appending") {
  TempDir dir;
  write_text(dir / "journal.jsonl", "{\"a\":1}\n{\"a\":2,\"b\":[1,");
  JsonLinesJournal journal(dir.path().string());
  CHECK(journal.read_all() == std::vector<json>{json{{"a", 1}}});

  journal.append(json{{"a", 3}});
  CHECK(read_text(dir / "journal.jsonl") == "{\"a\":1}\n{\"a\":3}\n");
  CHECK(journal.read_all() == std::vector<json>{json{{"a", 1}}, json{{"a", 3}}});
}

TEST_CASE("journal::JsonLinesJournal refuses to append to a corrupt journal") {
  TempDir dir;
  const std::string corrupt = "{\"a\":1}\ngarbage\n{\"a\":3}\n";
  write_text(dir / "journal.jsonl", corrupt);
  JsonLinesJournal journal(dir.path().string());
  CHECK_THROWS_AS(journal.read_all(), spec::InputError);
  CHECK_THROWS_AS(journal.append(json{{"a", 4}}), spec::InputError);
  CHECK(read_text(dir / "journal.jsonl") == corrupt);
}

TEST_CASE("journal::JsonLinesJournal writes invalid UTF-8 as replacement characters") {
  TempDir dir;
  JsonLinesJournal journal(dir.path().string());
  journal.append(json{{"line", std::string("loss \xff\xfe 1.5")}});
  CHECK(journal.read_all() == std::vector<json>{json{{"line", "loss \xef\xbf\xbd\xef\xbf\xbd 1.5"}}});
}

TEST_CASE("journal::JsonLinesJournal reports a run dir it cannot write") {
  TempDir dir;
  JsonLinesJournal journal((dir / "missing").string());
  CHECK(journal.read_all().empty());
  CHECK_THROWS_AS(journal.append(json{{"a", 1}}), std::system_error);
}

}  // namespace
}  // namespace autolrs::journal
