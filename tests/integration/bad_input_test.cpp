// Malformed and hostile job specs through the real binary: each is refused before anything runs,
// with exit 2, one message naming the field, and no run dir created.

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/autolrs_process.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using autolrs::testing::Finished;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
using nlohmann::json;

/// A valid spec whose trainer exists (it would run, and fail for want of loss lines).
json valid_spec() {
  return {{"name", "bad-input"},
          {"trainer",
           {{"command", {"/bin/echo", "--lr", "{lr}", "--steps", "{steps}", "--save", "{save_checkpoint}"}},
            {"loss", {{"pattern", "loss=(?P<loss>\\S+)"}}}}},
          {"search", {{"lr_min", 1e-4}, {"lr_max", 1.0}, {"first_stage_steps", 100}, {"max_stage_steps", 100}}},
          {"total_steps", 200}};
}

/// `valid_spec()` with the value at JSON pointer `pointer` replaced by `value`.
std::string with(const std::string& pointer, const json& value) {
  json spec = valid_spec();
  spec[json::json_pointer(pointer)] = value;
  return spec.dump();
}

/// `valid_spec()` with the value at `pointer` replaced by the raw text `raw`, which JSON values
/// cannot hold (NaN, numbers out of double's range).
std::string with_raw(const std::string& pointer, const std::string& raw) {
  const std::string marker = "\"raw-value-marker\"";
  std::string text = with(pointer, "raw-value-marker");
  return text.replace(text.find(marker), marker.size(), raw);
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

struct BadInput {
  std::string what;
  std::string spec_text;
  std::string field;  ///< what the message names first, after "autolrs: error: "; "<spec>" for the spec file
  std::string run_dir = "";  ///< "" for <temp>/run
  std::string also = "";     ///< more the message must hold
};

TEST_CASE("integration: bad job specs are refused with exit 2, a message naming the field, and nothing written") {
  TempDir dir;
  const std::string spec_path = (dir / "job.json").string();
  write_text(dir / "a-file", "not a folder");
  json unknown_key = valid_spec();
  unknown_key["serach"] = json::object();
  json unknown_nested_key = valid_spec();
  unknown_nested_key["search"]["lr_mni"] = 0.1;
  const std::vector<BadInput> cases = {
      {"not JSON", "{\"name\": \"x\",", "<spec>"},
      {"empty", "", "<spec>"},
      {"binary", std::string("\x00\xff\xfe\x7f\x80 junk\x1b[31m", 12), "<spec>"},
      {"deeply nested", "{\"name\": " + nested(100000) + "}", "<spec>"},
      {"NaN literal (not JSON)", with_raw("/search/lr_min", "NaN"), "<spec>"},
      {"not an object", "[1, 2]", "<spec>"},
      {"wrong type: string for a number", with("/total_steps", "200"), "total_steps"},
      {"wrong type: number for the command", with("/trainer/command", 3), "trainer.command"},
      {"wrong type: fraction for a count", with("/search/probes_per_stage", 2.5), "search.probes_per_stage"},
      {"out of range: negative LR", with("/search/lr_min", -0.1), "search.lr_min"},
      {"out of range: overflowing number", with_raw("/search/lr_max", "1e999"), "<spec>", "", "near search.lr_max"},
      {"out of range: huge integer", with_raw("/total_steps", "123456789012345678901234567890"), "total_steps"},
      {"out of range: 1e18 total steps (planned in closed form, not for ever)", with("/total_steps", 1'000'000'000'000'000'000),
       "total_steps", "", "must be at most 1e+15"},
      {"too many stages: 1e13 total steps", with("/total_steps", 10'000'000'000'000), "total_steps", "",
       "cuts the run into 100000000000 stages"},
      {"out of range: probe fraction", with("/search/probe_fraction", 1.5), "search.probe_fraction"},
      {"out of range: zero steps", with("/total_steps", 0), "total_steps"},
      {"swapped LR bounds", with("/search/lr_min", 10.0), "search.lr_"},
      {"swapped stage lengths", with("/search/first_stage_steps", 1000), "search."},
      {"unknown key", unknown_key.dump(), "serach"},
      {"unknown nested key", unknown_nested_key.dump(), "search.lr_mni"},
      {"unknown placeholder", with("/trainer/command/2", "{learning_rate}"), "trainer.command[2]"},
      {"invalid regex", with("/trainer/loss/pattern", "loss=(?P<loss>\\S+"), "trainer.loss.pattern"},
      {"regex without the loss group", with("/trainer/loss/pattern", "loss=(\\S+)"), "trainer.loss.pattern"},
      {"missing trainer binary", with("/trainer/command/0", "/nonexistent/train.py"), "trainer.command[0]"},
      {"missing trainer workdir", with("/trainer/workdir", "no-such-workdir"), "trainer.workdir", "",
       "not a directory: " + (dir / "no-such-workdir").string()},
      {"trainer not in PATH", with("/trainer/command/0", "no-such-trainer-xyz"), "trainer.command[0]"},
      {"run dir under a regular file", valid_spec().dump(), "run_dir", (dir / "a-file" / "run").string()},
      {"run dir in /proc", valid_spec().dump(), "run_dir", "/proc/autolrs-run-dir"},
  };
  for (const BadInput& bad : cases) {
    CAPTURE(bad.what);
    write_text(dir / "job.json", bad.spec_text);
    const std::string run_dir = bad.run_dir.empty() ? (dir / "run").string() : bad.run_dir;
    const Finished run = autolrs::testing::run_autolrs(dir, {"run", spec_path, "--run-dir", run_dir});
    CAPTURE(run.err);
    CHECK(run.status == 2);
    CHECK(run.out.empty());
    const std::string field = bad.field == "<spec>" ? spec_path : bad.field;
    CHECK(run.err.rfind("autolrs: error: " + field, 0) == 0);
    CHECK(run.err.find('\n') == run.err.size() - 1);  // one line
    CHECK(run.err.find(bad.also) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "run"));
    CHECK_FALSE(fs::exists(run_dir));
  }
}

TEST_CASE("integration: the valid spec behind the bad-input table is accepted") {
  // Guards the table above: without this, a spec refused for an unrelated reason would pass it.
  TempDir dir;
  json spec = valid_spec();
  spec["trainer"]["max_retries"] = 0;
  spec["search"]["probes_per_stage"] = 2;
  const Finished run = autolrs::testing::run_autolrs(
      dir, {"run", autolrs::testing::write_spec(dir, spec), "--run-dir", (dir / "run").string()});
  CAPTURE(run.err);
  CHECK(run.status == 1);  // it ran: /bin/echo prints no loss lines, so every probe fails
  CHECK(fs::exists(dir / "run" / "journal.jsonl"));
}

}  // namespace

TEST_CASE("integration: a mistyped subcommand is refused with the nearest one, and `autolrs help` prints the help") {
  TempDir dir;
  const Finished typo = autolrs::testing::run_autolrs(dir, {"runn", "job.json"});
  CHECK(typo.status == 2);
  CHECK(typo.err == "autolrs: error: unknown subcommand \"runn\"; did you mean \"run\"? (autolrs --help lists them)\n");
  const Finished unknown = autolrs::testing::run_autolrs(dir, {"frobnicate"});
  CHECK(unknown.status == 2);
  CHECK(unknown.err == "autolrs: error: unknown subcommand \"frobnicate\" (autolrs --help lists them)\n");
  const Finished help = autolrs::testing::run_autolrs(dir, {"help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("range-test") != std::string::npos);
  CHECK(help.out.find("Example: autolrs run configs/dry-run.json --dry-run") != std::string::npos);
  CHECK(help.out.find("README.md") != std::string::npos);
}
