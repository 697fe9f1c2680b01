#include <doctest/doctest.h>

#include <filesystem>

#include "report/html_report_writer.hpp"
#include "support/temp_dir.hpp"

using namespace autolrs;
using testing::TempDir;

namespace {

/// A clock the test sets.
struct ManualClock : orchestrator::Clock {
  double now_s() const override { return now; }
  double now = 100;
};

orchestrator::LaunchReport finished(search::LaunchKind kind) {
  orchestrator::LaunchReport report;
  report.request.kind = kind;
  report.request.stage = 0;
  report.request.probe = kind == search::LaunchKind::probe ? 0 : -1;
  return report;
}

}  // namespace

TEST_CASE("report::HtmlReportWriter writes report.html after main launches, throttles probes by the clock, and at the end") {
  TempDir run_dir;
  spec::JobSpec job;
  job.name = "throttled";
  job.total_steps = 100;
  const search::SearchRecord progress;
  const std::vector<orchestrator::LaunchReport> launches;
  const orchestrator::RunState state{job, progress, launches, orchestrator::RunStatus::running, 0, "", std::nullopt};
  ManualClock clock;
  report::HtmlReportWriter writer(run_dir.path().string(), clock, 5);
  const std::filesystem::path report_path = run_dir / "report.html";
  const auto written_after = [&](auto event) {
    std::filesystem::remove(report_path);
    event();
    return std::filesystem::exists(report_path);
  };
  const auto probe_finished = [&] { writer.on_launch_finished(finished(search::LaunchKind::probe), state); };

  CHECK(written_after(probe_finished));  // the first event writes
  clock.now += 4.9;
  CHECK_FALSE(written_after(probe_finished));
  clock.now += 0.1;
  CHECK(written_after(probe_finished));
  CHECK_FALSE(written_after(probe_finished));
  CHECK(written_after([&] { writer.on_launch_finished(finished(search::LaunchKind::stage), state); }));
  CHECK(written_after([&] { writer.on_launch_finished(finished(search::LaunchKind::warmup), state); }));
  CHECK(written_after([&] { writer.on_run_finished(state); }));
  CHECK(testing::read_text(report_path).find("<h1>throttled</h1>") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(run_dir / "report.html.tmp"));
}
