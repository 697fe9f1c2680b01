#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/html_checks.hpp"
#include "report/occurrences.hpp"
#include "report/html_page_parts.hpp"
#include "report/html_report.hpp"

using namespace autolrs;
using orchestrator::LaunchReport;
using orchestrator::RunState;
using orchestrator::RunStatus;
using search::LaunchKind;
using search::ProbeStatus;
using report::render_html_report;

using autolrs::testing::check_self_contained;
using autolrs::testing::occurrences;
using autolrs::testing::polylines;

namespace {

spec::JobSpec job_for_tests() {
  spec::JobSpec job;
  job.name = "digits";
  job.total_steps = 1000;
  job.search.lr_min = 1e-4;
  job.search.lr_max = 1;
  job.search.probes_per_stage = 3;
  job.search.first_stage_steps = 400;
  job.search.max_stage_steps = 600;
  job.run_dir = "/runs/digits";
  return job;
}

search::ProbeRecord probe(int index, double lr, ProbeStatus status, double prediction) {
  search::ProbeRecord record;
  record.index = index;
  record.lr = lr;
  record.steps = 40;
  record.status = status;
  if (status == ProbeStatus::succeeded) {
    numerics::Forecast forecast;
    forecast.prediction = prediction;
    forecast.prediction_std = 0.05;
    record.forecast = forecast;
    record.judged_by = search::ProbeJudgement::forecast;
  } else if (status != ProbeStatus::pending) {
    record.reason = "exited with status 1 <see log>";
  }
  return record;
}

/// Two stages: the first trained (3 probes, one diverged), the second probing (one probe pending).
search::SearchRecord two_stages() {
  search::SearchRecord progress;
  search::StageRecord first;
  first.index = 0;
  first.start_step = 0;
  first.steps = 400;
  first.probe_steps = 40;
  first.probes = {probe(0, 1e-3, ProbeStatus::succeeded, 1.2), probe(1, 0.03, ProbeStatus::succeeded, 0.8),
                  probe(2, 0.9, ProbeStatus::diverged, 0)};
  first.lr = 0.03;
  for (int i = 0; i < 16; ++i) {
    const double lr = std::pow(10.0, -4 + i * 4.0 / 15);
    first.posterior.push_back({lr, 1 + 0.1 * std::pow(std::log10(lr) + 1.5, 2), 0.1});
  }
  first.attempts = 1;
  first.completed = true;
  first.final_loss = 0.75;
  first.final_val_loss = 0.81;
  search::StageRecord second;
  second.index = 1;
  second.start_step = 400;
  second.steps = 600;
  second.probe_steps = 60;
  second.probes = {probe(0, 0.01, ProbeStatus::succeeded, 0.6), probe(1, 0.1, ProbeStatus::pending, 0)};
  progress.stages = {first, second};
  progress.model_steps = 400;
  progress.probe_steps = 3 * 40 + 60;
  return progress;
}

LaunchReport launch(LaunchKind kind, int stage, int probe_index, long start_step, long steps, std::vector<double> losses) {
  LaunchReport report;
  report.request.kind = kind;
  report.request.stage = stage;
  report.request.probe = probe_index;
  report.request.lr = 0.03;
  report.request.start_step = start_step;
  report.request.steps = steps;
  report.outcome.status = search::OutcomeStatus::succeeded;
  for (size_t i = 0; i < losses.size(); ++i) report.outcome.train.push_back({static_cast<double>(i + 1), losses[i]});
  return report;
}

}  // namespace

TEST_CASE("report::render_html_report draws one svg per plot: schedule, loss, and each stage with probes") {
  const spec::JobSpec job = job_for_tests();
  const search::SearchRecord progress = two_stages();
  std::vector<double> main_losses, probe_losses;
  for (int i = 0; i < 400; ++i) main_losses.push_back(2.0 * std::exp(-0.01 * i) + 0.5);
  for (int i = 0; i < 40; ++i) probe_losses.push_back(2.4 - 0.01 * i);
  const std::vector<LaunchReport> launches = {launch(LaunchKind::probe, 0, 0, 0, 40, probe_losses),
                                              launch(LaunchKind::stage, 0, -1, 0, 400, main_losses)};
  const RunState state{job, progress, launches, RunStatus::running, 12.5, "/runs/digits/checkpoints/step-000000400", std::nullopt};
  const std::string html = render_html_report(state);

  check_self_contained(html);
  CHECK(occurrences(html, "<svg") == 4);
  CHECK(occurrences(html, "<figure>") == 4);
  CHECK(html.find("<svg id=\"lr-schedule\"") != std::string::npos);
  CHECK(html.find("<svg id=\"loss\"") != std::string::npos);
  CHECK(html.find("<svg id=\"stage-0\"") != std::string::npos);
  CHECK(html.find("<svg id=\"stage-1\"") != std::string::npos);
  SUBCASE("the stage table has a row per stage with its LR, probes and losses") {
    CHECK(html.find("<tr class=\"trained\"><td>0</td><td>0</td><td>400</td><td>0.03</td><td>2/3</td><td>0.75</td><td>0.81</td>"
                    "<td>trained</td><td></td></tr>") != std::string::npos);
    CHECK(html.find("<tr class=\"probing\"><td>1</td><td>400</td><td>600</td><td>–</td><td>1/2</td><td>–</td><td>–</td>"
                    "<td>probing</td><td></td></tr>") != std::string::npos);
  }
  SUBCASE("the totals show steps, overhead, wall time and status") {
    CHECK(html.find("<span class=\"status running\">running</span>") != std::string::npos);
    CHECK(html.find("400 <small>of 1\u202f000</small>") != std::string::npos);
    CHECK(html.find(">0.45<") != std::string::npos);  // 180 probe steps per 400 model steps
    CHECK(html.find(">12.5 s<") != std::string::npos);
    CHECK(html.find("in progress when the report was written") != std::string::npos);
  }
  SUBCASE("the stage plot marks the chosen LR, the diverged probe and the GP band") {
    CHECK(html.find("chosen 0.03") != std::string::npos);
    CHECK(html.find("diverged (drawn at top)") != std::string::npos);
    CHECK(html.find("GP posterior mean") != std::string::npos);
    CHECK(html.find("<polygon") != std::string::npos);
    CHECK(html.find("probe 2: lr 0.9, diverged: exited with status 1 &lt;see log&gt;") != std::string::npos);
    CHECK(html.find("running probe") != std::string::npos);
  }
  SUBCASE("why a probe failed is visible text under its stage's plot, not only a tooltip") {
    CHECK(html.find("<ul class=\"remarks\">\n<li>probe 2: lr 0.9, diverged: exited with status 1 &lt;see log&gt;</li>\n</ul>") !=
          std::string::npos);
  }
}

TEST_CASE("report::render_html_report shows a stage's abandoned LR and retries in its plot and table, and discarded steps") {
  const spec::JobSpec job = job_for_tests();
  search::SearchRecord progress = two_stages();
  search::StageRecord& first = progress.stages[0];
  first.abandoned_lrs = {0.5};
  first.attempts = 2;
  progress.discarded_steps = 120;
  LaunchReport abandoned = launch(LaunchKind::stage, 0, -1, 0, 400, {2.0, 30.0});
  abandoned.request.lr = 0.5;
  abandoned.outcome.status = search::OutcomeStatus::diverged;
  abandoned.outcome.reason = "loss diverged (30)";
  const RunState state{job, progress, {abandoned}, RunStatus::running, 12.5, "", std::nullopt};
  const std::string html = render_html_report(state);
  check_self_contained(html);
  CHECK(html.find("<td>trained</td><td>2 attempts; abandoned lr 0.5</td></tr>") != std::string::npos);
  CHECK(html.find("abandoned LR") != std::string::npos);  // the legend
  CHECK(html.find("<li>abandoned lr 0.5: the stage launch at it diverged (loss diverged (30)); the stage went on at the next "
                  "best probe&#39;s LR</li>") != std::string::npos);
  CHECK(html.find("<div class=\"label\">discarded steps</div><div class=\"value\">120</div>") != std::string::npos);
}

TEST_CASE("report::render_html_report labels end-loss probes as the search judged them: after the decay tail or at their end") {
  const spec::JobSpec job = job_for_tests();
  search::SearchRecord progress = two_stages();
  for (search::ProbeRecord& probe : progress.stages[0].probes) {
    if (probe.status != ProbeStatus::succeeded) continue;
    probe.end_loss = probe.forecast->prediction + 0.125;
    probe.judged_by = search::ProbeJudgement::end_loss;
  }
  const std::vector<LaunchReport> launches;
  for (const bool decay_tails : {true, false}) {
    CAPTURE(decay_tails);
    progress.stages[0].decay_tails = decay_tails;
    const std::string html = render_html_report(RunState{job, progress, launches, RunStatus::running, 1, "", std::nullopt});
    CHECK(html.find(decay_tails ? "loss after the decay tail" : "loss at the probe&#39;s end") != std::string::npos);
    CHECK(html.find(decay_tails ? "loss at the probe" : "after the decay tail") == std::string::npos);
    // The value the search judged probe 1 by, without a spread (an end loss has none).
    CHECK(html.find("probe 1: lr 0.03, loss 0.925<") != std::string::npos);
    CHECK(html.find("forecast 0.8") == std::string::npos);
  }
}

TEST_CASE("report::render_html_report says under the search stage which decay follows the hold, and why") {
  const spec::JobSpec job = job_for_tests();
  search::SearchRecord progress = two_stages();
  for (search::ProbeRecord& probe : progress.stages[0].probes) probe.rounds = 2;
  const std::vector<LaunchReport> launches;
  progress.decay = search::DecayChoice{"linear", 0.043};
  std::string html = render_html_report(RunState{job, progress, launches, RunStatus::running, 1, "", std::nullopt});
  CHECK(html.find("<li>after the hold, a linear decay to 0: the last round&#39;s decay tails removed up to 4.3% of the loss "
                  "(under 10%: progress bounds it, so the LR stays high longer)</li>") != std::string::npos);
  progress.decay = search::DecayChoice{"cubic", 0.31};
  html = render_html_report(RunState{job, progress, launches, RunStatus::running, 1, "", std::nullopt});
  CHECK(html.find("<li>after the hold, a cubic decay to 0: the last round&#39;s decay tails removed up to 31% of the loss "
                  "(10% or more: the LR&#39;s noise bounds it, so the LR falls early)</li>") != std::string::npos);
  progress.decay = search::DecayChoice{"quadratic", std::nullopt};
  html = render_html_report(RunState{job, progress, launches, RunStatus::running, 1, "", std::nullopt});
  CHECK(html.find("<li>after the hold, a quadratic decay to 0</li>") != std::string::npos);
}

TEST_CASE("report::render_html_report escapes names and messages from the spec and the trainer") {
  spec::JobSpec job = job_for_tests();
  job.name = "</title><script>alert('x')</script>";
  job.run_dir = "/runs/\"><svg onload=alert(1)>";
  const search::SearchRecord progress = two_stages();
  const std::vector<LaunchReport> launches;
  const RunState state{job, progress, launches, RunStatus::failed, 1, "", std::string("stage 1: <b>every</b> probe failed & \"gave up\"")};
  const std::string html = render_html_report(state);

  check_self_contained(html);
  CHECK(html.find("<title>autolrs: &lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</title>") != std::string::npos);
  CHECK(html.find("<code>/runs/&quot;&gt;&lt;svg onload=alert(1)&gt;</code>") != std::string::npos);
  CHECK(html.find("<strong>Run failed:</strong> stage 1: &lt;b&gt;every&lt;/b&gt; probe failed &amp; &quot;gave up&quot;") !=
        std::string::npos);
  CHECK(html.find("<tr class=\"failed\"><td>1</td>") != std::string::npos);
}

TEST_CASE("report::render_html_report leaves out non-finite losses and decimates long series") {
  const spec::JobSpec job = job_for_tests();
  search::SearchRecord progress;
  progress.model_steps = 1000;
  std::vector<double> losses;
  for (int i = 0; i < 50000; ++i) losses.push_back(i % 97 == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 + 1.0 / (1 + i));
  losses[10] = std::numeric_limits<double>::infinity();
  losses[11] = -std::numeric_limits<double>::infinity();
  const std::vector<LaunchReport> launches = {launch(LaunchKind::warmup, -1, -1, 0, 1000, losses)};
  const RunState state{job, progress, launches, RunStatus::completed, 3, "", std::nullopt};
  const std::string html = render_html_report(state);

  check_self_contained(html);
  const std::vector<std::string> lines = polylines(html);
  REQUIRE_FALSE(lines.empty());
  for (const std::string& points : lines) {
    CHECK(points.find_first_not_of("0123456789., -") == std::string::npos);
    CHECK(static_cast<size_t>(std::count(points.begin(), points.end(), ' ')) + 1 <= report::max_series_points);
  }
  CHECK(occurrences(html, "<svg") == 2);
}

TEST_CASE("report::render_html_report renders a run with nothing finished yet") {
  const spec::JobSpec job = job_for_tests();
  const search::SearchRecord progress;
  const std::vector<LaunchReport> launches;
  const RunState state{job, progress, launches, RunStatus::running, 0, "", std::nullopt};
  const std::string html = render_html_report(state);

  check_self_contained(html);
  CHECK(occurrences(html, "<svg") == 2);
  CHECK(html.find("no launch has finished yet") != std::string::npos);
  CHECK(html.find("no stage has started yet") != std::string::npos);
  CHECK(html.find("nothing trained yet") != std::string::npos);
  CHECK(polylines(html).empty());
}

TEST_CASE("report::render_html_report draws a single loss as a dot") {
  const spec::JobSpec job = job_for_tests();
  search::SearchRecord progress;
  const std::vector<LaunchReport> launches = {launch(LaunchKind::warmup, -1, -1, 0, 1, {0.7})};
  const RunState state{job, progress, launches, RunStatus::running, 0, "", std::nullopt};
  const std::string html = render_html_report(state);
  CHECK(polylines(html).empty());
  CHECK(html.find("<circle") != std::string::npos);
  CHECK(html.find("<title>train loss</title>") != std::string::npos);
}
