// The one run-directory policy: `autolrs validate` and every command that runs launches (through
// prepare_run_dir) agree on every state a run dir can be in.

#include "session/run_dir.hpp"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "session/validate.hpp"
#include "spec/input_error.hpp"
#include "storage/run_dir_lock.hpp"
#include "support/temp_dir.hpp"

namespace autolrs::session {
namespace {

using testing::TempDir;
using testing::write_text;
namespace fs = std::filesystem;

const std::string started_record = "{\"type\":\"started\",\"identity\":{\"spec\":{}}}\n";

/// A job validate can check: a trainer that exists, one slot, the run dir to look at.
spec::JobSpec job_in(const std::string& run_dir) {
  spec::JobSpec job = spec::parse_job_spec(
      R"json({"name": "policy", "trainer": {"command": ["/bin/sh", "--lr", "{lr}"], "loss": {"pattern": "loss=(?P<loss>\\S+)"}},
          "total_steps": 100})json",
      "/job.json");
  job.run_dir = run_dir;
  return job;
}

/// What a command said: the run-dir line of validate's report, or the error it refused with.
std::string verdict(const std::function<std::string()>& command) {
  try {
    return command();
  } catch (const spec::InputError& error) {
    return std::string("error: ") + error.what();
  }
}

std::string validate_verdict(const std::string& run_dir) {
  return verdict([&] {
    std::ostringstream out;
    validate_job(job_in(run_dir), out);
    const std::string text = out.str();
    const size_t line = text.find("\nrun_dir: ") + 1;
    return text.substr(line, text.find('\n', line) - line);
  });
}

std::string run_verdict(const std::string& run_dir, bool resume) {
  return verdict([&] {
    const storage::RunDirLock lock = prepare_run_dir(run_dir, resume);
    return std::string("accepted");
  });
}

struct RunDirCase {
  const char* name;
  /// Makes the state in a fresh folder and returns the run dir.
  std::function<std::string(const TempDir&)> make;
  std::string validate;   ///< validate's run-dir line, or "error: ..." (with <run_dir>, <dir> for the paths)
  std::string run;        ///< what `autolrs run` says without --resume
  std::string resume;     ///< ... and with it
};

std::string with_paths(std::string text, const TempDir& dir, const std::string& run_dir) {
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"<run_dir>", run_dir}, {"<dir>", dir.path().string()}}) {
    for (size_t at; (at = text.find(name)) != std::string::npos;) text.replace(at, name.size(), value);
  }
  return text;
}

TEST_CASE("session: validate and run agree on every run-dir state") {
  const std::string no_run_to_resume = "error: --resume: no run to resume in <run_dir>";
  const std::string holds_run = "error: run_dir: <run_dir> already holds a run; continue it with --resume, or choose another run_dir";
  const auto folder = [](const char* journal) {
    return [journal](const TempDir& dir) {
      fs::create_directory(dir / "run");
      if (journal) write_text(dir / "run" / "journal.jsonl", journal);
      return (dir / "run").string();
    };
  };
  const std::vector<RunDirCase> cases = {
      {"absent, in a folder that exists", [](const TempDir& dir) { return (dir / "runs" / "new").string(); },
       "run_dir: <dir>/runs/new (will be created (in <dir>))", "accepted", no_run_to_resume},
      {"absent, below a file", [](const TempDir& dir) { write_text(dir / "file", ""); return (dir / "file" / "run").string(); },
       "error: run_dir: cannot be created: <dir>/file is not a writable directory",
       "error: run_dir: cannot be created: <dir>/file is not a writable directory",
       "error: run_dir: cannot be created: <dir>/file is not a writable directory"},
      {"a file", [](const TempDir& dir) { write_text(dir / "run", ""); return (dir / "run").string(); },
       "error: run_dir: not a directory: <run_dir>", "error: run_dir: not a directory: <run_dir>",
       "error: run_dir: not a directory: <run_dir>"},
      {"an empty folder", folder(nullptr), "run_dir: <run_dir> (exists, holds no run and no other files)", "accepted", no_run_to_resume},
      {"an empty journal (killed before its first record)", folder(""), "run_dir: <run_dir> (exists, holds no run and no other files)", "accepted",
       no_run_to_resume},
      {"a journal with a torn first record", folder("{\"type\":\"sta"), "run_dir: <run_dir> (exists, holds no run and no other files)", "accepted",
       no_run_to_resume},
      {"the leftovers of an autolrs killed before its first record",
       [](const TempDir& dir) {
         fs::create_directories(dir / "run" / "logs");
         fs::create_directories(dir / "run" / "checkpoints");
         write_text(dir / "run" / "autolrs.lock", "123\n");
         write_text(dir / "run" / "journal.jsonl", "{\"type\":\"sta");
         return (dir / "run").string();
       },
       "run_dir: <run_dir> (exists, holds no run and no other files)", "accepted", no_run_to_resume},
      {"a folder of another program's files",
       [](const TempDir& dir) {
         fs::create_directories(dir / "run" / "checkpoints");
         write_text(dir / "run" / "summary.json", "{}");
         write_text(dir / "run" / "checkpoints" / "step-000000500", "theirs");
         return (dir / "run").string();
       },
       "error: run_dir: <run_dir> is not empty and holds no autolrs run (checkpoints, summary.json); a new run needs a new "
       "or empty folder: choose another run_dir",
       "error: run_dir: <run_dir> is not empty and holds no autolrs run (checkpoints, summary.json); a new run needs a new "
       "or empty folder: choose another run_dir",
       "error: run_dir: <run_dir> is not empty and holds no autolrs run (checkpoints, summary.json); a new run needs a new "
       "or empty folder: choose another run_dir"},
      {"a journal holding a run", folder(started_record.c_str()),
       "run_dir: <run_dir> (holds a run: `autolrs run` needs --resume or another run_dir)", holds_run, "accepted"},
      {"a journal corrupt before its last line", folder("garbage\n{\"type\":\"finished\",\"status\":\"completed\"}\n"),
       "error: journal.jsonl:1: corrupt record (not valid JSON at byte 1 of the line); only the last line of a journal may be incomplete",
       "error: journal.jsonl:1: corrupt record (not valid JSON at byte 1 of the line); only the last line of a journal may be incomplete",
       "error: journal.jsonl:1: corrupt record (not valid JSON at byte 1 of the line); only the last line of a journal may be incomplete"},
      {"a journal of JSON that is no run's", folder("{\"a\":1}\n"),
       "error: journal.jsonl:1: malformed record: [json.exception.out_of_range.403] key 'type' not found",
       "error: journal.jsonl:1: malformed record: [json.exception.out_of_range.403] key 'type' not found",
       "error: journal.jsonl:1: malformed record: [json.exception.out_of_range.403] key 'type' not found"},
  };
  for (const RunDirCase& c : cases) {
    CAPTURE(c.name);
    // Each command in a fresh copy of the state: run creates folders and a lock file.
    TempDir dir;
    const std::string run_dir = c.make(dir);
    const std::string validated = validate_verdict(run_dir);
    CHECK(validated == with_paths(c.validate, dir, run_dir));
    TempDir dir_for_run, dir_for_resume;
    const std::string run_dir_for_run = c.make(dir_for_run), run_dir_for_resume = c.make(dir_for_resume);
    CHECK(run_verdict(run_dir_for_run, false) == with_paths(c.run, dir_for_run, run_dir_for_run));
    CHECK(run_verdict(run_dir_for_resume, true) == with_paths(c.resume, dir_for_resume, run_dir_for_resume));

    // The agreement itself: validate refuses what run refuses, and says "holds a run" exactly when
    // run needs --resume.
    const bool validate_refuses = validated.rfind("error: ", 0) == 0;
    CHECK(validate_refuses == (c.run != "accepted" && c.run != holds_run));
    CHECK((validated.find("holds a run") != std::string::npos) == (c.run == holds_run && c.resume == "accepted"));
    if (validate_refuses) CHECK(c.validate == c.run);
  }
}

TEST_CASE("session: validate and run both refuse a run dir another autolrs holds, naming its pid") {
  TempDir dir;
  const std::string run_dir = (dir / "run").string();
  fs::create_directory(run_dir);
  const std::optional<storage::RunDirLock> holder = storage::RunDirLock::try_acquire(run_dir);
  REQUIRE(holder);
  const std::string in_use = "error: run_dir: " + run_dir + " is in use by another autolrs (pid " + std::to_string(::getpid()) +
                             "); wait for it to end or stop it, or choose another run_dir";
  CHECK(validate_verdict(run_dir) == in_use);
  CHECK(run_verdict(run_dir, false) == in_use);
  CHECK(run_verdict(run_dir, true) == in_use);
  CHECK_FALSE(fs::exists(dir / "run" / "journal.jsonl"));
}

TEST_CASE("session::prepare_run_dir creates the run dir with logs/ and checkpoints/, and refuses --resume before creating anything") {
  TempDir dir;
  const std::string run_dir = (dir / "a" / "run").string();
  CHECK(run_verdict(run_dir, true) == "error: --resume: no run to resume in " + run_dir);
  CHECK_FALSE(fs::exists(dir / "a"));
  {
    const storage::RunDirLock lock = prepare_run_dir(run_dir, false);
    CHECK(fs::is_directory(dir / "a" / "run" / "logs"));
    CHECK(fs::is_directory(dir / "a" / "run" / "checkpoints"));
    CHECK(storage::RunDirLock::is_held(run_dir));
  }
  CHECK_FALSE(storage::RunDirLock::is_held(run_dir));
}

}  // namespace
}  // namespace autolrs::session
