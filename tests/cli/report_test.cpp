#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "report/html_page_parts.hpp"
#include "report/occurrences.hpp"
#include "support/temp_dir.hpp"

namespace {

using autolrs::testing::read_text;
using autolrs::testing::TempDir;
using autolrs::testing::write_text;
namespace fs = std::filesystem;

struct Finished {
  int status = 0;
  std::string out, err;
};

/// Runs the built autolrs with `arguments` (shell words, paths without spaces) from the source tree.
Finished run_autolrs(const std::string& arguments, const TempDir& scratch) {
  const fs::path out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  const std::string command = "cd " AUTOLRS_SOURCE_DIR " && " AUTOLRS_BINARY " " + arguments + " >" + out.string() +
                              " 2>" + err.string() + " </dev/null";
  const int status = std::system(command.c_str());
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), read_text(out), read_text(err)};
}

/// The report without its wall-time figure, which differs between the live run and a replay.
std::string without_wall_time(const std::string& html) {
  return std::regex_replace(html, std::regex("wall time</div><div class=\"value\">[^<]*<"), "wall time</div><div class=\"value\"><");
}

}  // namespace

TEST_CASE("cli: autolrs report rebuilds from the journal the report the run wrote") {
  TempDir scratch;
  const fs::path run_dir = scratch / "run";
  REQUIRE(run_autolrs("run configs/dry-run.json --dry-run --run-dir " + run_dir.string(), scratch).status == 0);
  const std::string written_by_run = read_text(run_dir / "report.html");
  REQUIRE(written_by_run.find("<span class=\"status completed\">completed</span>") != std::string::npos);
  fs::remove(run_dir / "report.html");

  const Finished report = run_autolrs("report " + run_dir.string(), scratch);
  CHECK(report.status == 0);
  CHECK(report.out == (run_dir / "report.html").string() + " (run completed)\n");
  CHECK(without_wall_time(read_text(run_dir / "report.html")) == without_wall_time(written_by_run));

  SUBCASE("a journal cut short is a running run") {
    const std::string journal = read_text(run_dir / "journal.jsonl");
    size_t cut = 0;
    // Past the first stage (40 launches of the peak search and the hold, an issued and a result line
    // each: 82 lines, of 98), not the run's end.
    for (int line = 0; line < 90; ++line) cut = journal.find('\n', cut) + 1;
    write_text(run_dir / "journal.jsonl", journal.substr(0, cut));
    const Finished running = run_autolrs("report " + run_dir.string(), scratch);
    CHECK(running.status == 0);
    CHECK(running.out == (run_dir / "report.html").string() + " (run running)\n");
    const std::string html = read_text(run_dir / "report.html");
    CHECK(html.find("<span class=\"status running\">running</span>") != std::string::npos);
    CHECK(html.find("not trained yet") != std::string::npos);
  }
}

TEST_CASE("cli: autolrs report rebuilds a baseline's report from its journal") {
  TempDir scratch;
  const fs::path run_dir = scratch / "baseline";
  REQUIRE(run_autolrs("baseline configs/dry-run.json --schedule cosine --lr 0.05 --segments 4 --dry-run --run-dir " + run_dir.string(),
                      scratch)
              .status == 0);
  const std::string written_by_run = read_text(run_dir / "report.html");
  REQUIRE(written_by_run.find("<span class=\"status completed\">completed</span>") != std::string::npos);
  fs::remove(run_dir / "report.html");

  const Finished report = run_autolrs("report " + run_dir.string(), scratch);
  CHECK(report.err == "");
  CHECK(report.status == 0);
  CHECK(report.out == (run_dir / "report.html").string() + " (run completed)\n");
  CHECK(without_wall_time(read_text(run_dir / "report.html")) == without_wall_time(written_by_run));
}

TEST_CASE("cli: autolrs report rebuilds a range test's report from its journal, its LRs as the stage's probes") {
  TempDir scratch;
  const fs::path run_dir = scratch / "range";
  REQUIRE(run_autolrs("range-test configs/dry-run.json --dry-run --points 4 --lr-min 0.001 --lr-max 1 --run-dir " +
                          run_dir.string(),
                      scratch)
              .status == 0);
  CHECK_FALSE(fs::exists(run_dir / "report.html"));

  const Finished report = run_autolrs("report " + run_dir.string(), scratch);
  CHECK(report.err == "");
  CHECK(report.status == 0);
  CHECK(report.out == (run_dir / "report.html").string() + " (run completed)\n");
  const std::string html = read_text(run_dir / "report.html");
  for (const char* lr : {"stage 0 probe 0: lr 0.001 (ok)", "stage 0 probe 1: lr 0.01 (ok)", "stage 0 probe 2: lr 0.1 (ok)",
                         "stage 0 probe 3: lr 1 (diverged)"}) {
    CAPTURE(lr);
    CHECK(html.find(lr) != std::string::npos);
  }
  CHECK(html.find("<td>3/4</td>") != std::string::npos);
  // Each LR at the final loss the range test ranks it by (the mean of its last fifth).
  CHECK(html.find("probe 0: lr 0.001, loss ") != std::string::npos);
  CHECK(html.find("probe 2: lr 0.1, loss ") != std::string::npos);
}

TEST_CASE("cli: autolrs report exits 2 naming the folder when it holds no journal") {
  TempDir scratch;
  fs::create_directory(scratch / "empty");
  const Finished report = run_autolrs("report " + (scratch / "empty").string(), scratch);
  CHECK(report.status == 2);
  CHECK(report.err == "autolrs: error: RUN_DIR: no journal.jsonl in " + (scratch / "empty").string() +
                          ": not a run directory, or its run has not started\n");
  CHECK_FALSE(fs::exists(scratch / "empty" / "report.html"));
}

TEST_CASE("cli: autolrs report --compare writes compare.html with an AutoLRS run and its baseline side by side") {
  TempDir scratch;
  const fs::path search_dir = scratch / "search", baseline_dir = scratch / "baseline";
  REQUIRE(run_autolrs("run configs/dry-run.json --dry-run --run-dir " + search_dir.string(), scratch).status == 0);
  REQUIRE(run_autolrs("baseline configs/dry-run.json --schedule cosine --lr 0.05 --segments 4 --dry-run --run-dir " +
                          baseline_dir.string(),
                      scratch)
              .status == 0);

  const Finished report = run_autolrs("report " + search_dir.string() + " --compare " + baseline_dir.string(), scratch);
  CHECK(report.err == "");
  CHECK(report.status == 0);
  CHECK(report.out == (search_dir / "report.html").string() + " (run completed)\n" + (search_dir / "compare.html").string() +
                          " (2 runs)\n");
  const std::string html = read_text(search_dir / "compare.html");
  CHECK(html.find("<h1>2 runs compared</h1>") != std::string::npos);
  CHECK(html.find("1. dry-run</td><td><code>" + search_dir.string() + "</code></td><td>AutoLRS search</td>") != std::string::npos);
  CHECK(html.find("2. dry-run</td><td><code>" + baseline_dir.string() + "</code></td><td>baseline: cosine schedule, peak lr 0.05</td>") !=
        std::string::npos);
  // The compute steps are summary.json's for a completed run; the baseline spends none on probes.
  const auto compute_steps = [](const fs::path& run_dir) {
    return nlohmann::json::parse(read_text(run_dir / "summary.json"))["compute_steps"].get<long>();
  };
  REQUIRE(compute_steps(search_dir) > 6000);
  CHECK(html.find("<td>6\u202f000</td><td>" + autolrs::report::steps_text(compute_steps(search_dir)) + "</td>") != std::string::npos);
  CHECK(html.find("<td>6\u202f000</td><td>6\u202f000</td><td>1.00</td>") != std::string::npos);
  CHECK(std::regex_search(html, std::regex("<svg id=\"(lr|train-loss|val-loss)-on-(model|compute)-steps\"")));
  CHECK(autolrs::testing::occurrences(html, "<svg id=") == 6);
  CHECK(autolrs::testing::occurrences(html, "<polyline") == 12);
}

TEST_CASE("cli: autolrs report --compare exits 2 for a folder without a journal or a run given twice") {
  TempDir scratch;
  const fs::path run_dir = scratch / "run";
  REQUIRE(run_autolrs("baseline configs/dry-run.json --schedule constant --lr 0.05 --dry-run --run-dir " + run_dir.string(),
                      scratch)
              .status == 0);
  fs::create_directory(scratch / "empty");

  const Finished no_journal = run_autolrs("report " + run_dir.string() + " --compare " + (scratch / "empty").string(), scratch);
  CHECK(no_journal.status == 2);
  CHECK(no_journal.err == "autolrs: error: RUN_DIR: no journal.jsonl in " + (scratch / "empty").string() +
                              ": not a run directory, or its run has not started\n");
  CHECK_FALSE(fs::exists(run_dir / "compare.html"));

  const Finished twice = run_autolrs("report " + run_dir.string() + " --compare " + run_dir.string() + "/", scratch);
  CHECK(twice.status == 2);
  CHECK(twice.err == "autolrs: error: --compare: " + run_dir.string() + "/ is given twice (as " + run_dir.string() +
                         "): each run is compared once\n");
  CHECK_FALSE(fs::exists(run_dir / "compare.html"));
}
