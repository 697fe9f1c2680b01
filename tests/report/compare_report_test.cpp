#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "report/compare_report.hpp"
#include "report/html_checks.hpp"
#include "report/occurrences.hpp"

using namespace autolrs;
using orchestrator::LaunchReport;
using orchestrator::RunState;
using orchestrator::RunStatus;
using search::LaunchKind;
using search::OutcomeStatus;

using autolrs::testing::check_self_contained;
using autolrs::testing::occurrences;
using autolrs::testing::polylines;

namespace {

spec::JobSpec job_named(const std::string& name) {
  spec::JobSpec job;
  job.name = name;
  job.total_steps = 1000;
  job.run_dir = "/runs/" + name;
  return job;
}

/// A launch of `steps` steps from model step `start_step` that printed `train_points` train losses
/// (steps 1, 2, ...) and a val loss every 100 steps among them.
LaunchReport launch(LaunchKind kind, long start_step, long steps, double lr, OutcomeStatus status, int train_points) {
  LaunchReport report;
  report.request.kind = kind;
  report.request.stage = 0;
  report.request.probe = kind == LaunchKind::probe ? 0 : -1;
  report.request.lr = lr;
  report.request.start_step = start_step;
  report.request.steps = steps;
  report.outcome.status = status;
  for (int step = 1; step <= train_points; ++step) {
    const double loss = 0.5 + 2.0 / (1 + 0.01 * step);
    report.outcome.train.push_back({static_cast<double>(step), loss});
    if (step % 100 == 0) report.outcome.val.push_back({static_cast<double>(step), loss + 0.1});
  }
  return report;
}

search::StageRecord trained_stage(int index, long start_step, long steps, double lr, double lr_end, double final_loss) {
  search::StageRecord stage;
  stage.index = index;
  stage.start_step = start_step;
  stage.steps = steps;
  stage.lr = lr;
  stage.lr_end = lr_end;
  stage.completed = true;
  stage.final_loss = final_loss;
  stage.final_val_loss = final_loss + 0.1;
  return stage;
}

/// A search's launches in the order they finished: a probe, a probe that failed after 30 steps, one
/// that failed printing nothing, then the stage (130 compute steps before it).
std::vector<LaunchReport> search_launches() {
  return {launch(LaunchKind::probe, 0, 100, 0.01, OutcomeStatus::succeeded, 100),
          launch(LaunchKind::probe, 0, 100, 0.3, OutcomeStatus::diverged, 30),
          launch(LaunchKind::probe, 0, 100, 0.1, OutcomeStatus::failed, 0),
          launch(LaunchKind::stage, 0, 1000, 0.01, OutcomeStatus::succeeded, 1000)};
}

/// The part of `html` from `<svg id="<id>"` to its `</svg>`; empty when there is none.
std::string svg_with_id(const std::string& html, const std::string& id) {
  const std::size_t start = html.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</svg>", start) - start);
}

/// The x pixel of a polyline's first point.
double first_x(const std::string& points) { return std::stod(points.substr(0, points.find(','))); }

}  // namespace

TEST_CASE("report::compute_step_offsets counts every earlier launch's steps as far as it ran, in finish order") {
  CHECK(report::compute_step_offsets({}) == std::vector<long>{0});
  // A succeeded launch counts its steps; a failed one up to its last train loss; one without losses, none.
  CHECK(report::compute_step_offsets(search_launches()) == std::vector<long>{0, 100, 130, 130, 1130});
  const std::vector<LaunchReport> baseline = {launch(LaunchKind::warmup, 0, 200, 0.1, OutcomeStatus::succeeded, 200),
                                              launch(LaunchKind::stage, 200, 800, 0.1, OutcomeStatus::succeeded, 800)};
  CHECK(report::compute_step_offsets(baseline) == std::vector<long>{0, 200, 1000});
}

TEST_CASE("report::render_compare_report overlays the runs' schedules and losses over model and compute steps") {
  const spec::JobSpec search_job = job_named("search<&>");
  search::SearchRecord search_progress;
  search_progress.stages = {trained_stage(0, 0, 1000, 0.01, 0.01, 0.512)};
  search_progress.model_steps = 1000;
  search_progress.probe_steps = 130;
  const std::vector<LaunchReport> search_run = search_launches();

  const spec::JobSpec baseline_job = job_named("digits");
  search::SearchRecord baseline_progress;
  baseline_progress.stages = {trained_stage(0, 0, 500, 0.1, 0.05, 0.75), trained_stage(1, 500, 500, 0.05, 0.001, 0.625)};
  baseline_progress.model_steps = 1000;
  std::vector<LaunchReport> baseline_run = {launch(LaunchKind::stage, 0, 500, 0.1, OutcomeStatus::succeeded, 500),
                                            launch(LaunchKind::stage, 500, 500, 0.05, OutcomeStatus::succeeded, 500)};
  baseline_run[0].request.lr_end = 0.05;
  baseline_run[1].request.stage = 1;
  baseline_run[1].request.lr_end = 0.001;

  const std::vector<RunState> runs = {
      RunState{search_job, search_progress, search_run, RunStatus::completed, 75, "", std::nullopt},
      RunState{baseline_job, baseline_progress, baseline_run, RunStatus::interrupted, 3725, "", std::nullopt,
               "baseline: cosine schedule, peak lr 0.1"}};
  const std::string html = report::render_compare_report(runs);
  check_self_contained(html);

  SUBCASE("the table has a row per run: name, dir, method, status, final losses, steps, cost, wall time") {
    CHECK(html.find("1. search&lt;&amp;&gt;</td><td><code>/runs/search&lt;&amp;&gt;</code></td><td>AutoLRS search</td>"
                    "<td><span class=\"status completed\">completed</span></td><td>0.512</td><td>0.612</td>"
                    "<td>1\u202f000</td><td>1\u202f130</td><td>1.13</td><td>1 min 15 s</td></tr>") != std::string::npos);
    CHECK(html.find("2. digits</td><td><code>/runs/digits</code></td><td>baseline: cosine schedule, peak lr 0.1</td>"
                    "<td><span class=\"status interrupted\">interrupted</span></td><td>0.625</td><td>0.725</td>"
                    "<td>1\u202f000</td><td>1\u202f000</td><td>1.00</td><td>1 h 02 min</td></tr>") != std::string::npos);
    CHECK(html.find("search<&>") == std::string::npos);
  }
  SUBCASE("each plot is there over both axes, with one line per run") {
    for (const char* plot : {"lr", "train-loss", "val-loss"}) {
      for (const char* axis : {"model-steps", "compute-steps"}) {
        const std::string svg = svg_with_id(html, std::string(plot) + "-on-" + axis);
        CAPTURE(plot);
        CAPTURE(axis);
        REQUIRE_FALSE(svg.empty());
        CHECK(polylines(svg).size() == 2);
        CHECK(occurrences(svg, "<title>1. search&lt;&amp;&gt; (AutoLRS search)</title>") == 1);
        CHECK(occurrences(svg, "<title>2. digits (baseline: cosine schedule, peak lr 0.1)</title>") == 1);
      }
    }
    CHECK(occurrences(html, "<svg") == 6);
  }
  SUBCASE("two radio inputs switch between the model-step and the compute-step plots, model steps first") {
    CHECK(html.find("<input type=\"radio\" class=\"axis-radio\" name=\"step-axis\" id=\"axis-model-steps\" checked>") !=
          std::string::npos);
    CHECK(html.find("<input type=\"radio\" class=\"axis-radio\" name=\"step-axis\" id=\"axis-compute-steps\">") !=
          std::string::npos);
    CHECK(occurrences(html, "<div class=\"on-model-steps\">") == 1);
    CHECK(occurrences(html, "<div class=\"on-compute-steps\">") == 1);
    CHECK(html.find("<div class=\"on-model-steps\">") < html.find("<div class=\"on-compute-steps\">"));
    CHECK(html.find(".on-compute-steps,#axis-compute-steps:checked~.on-model-steps{display:none}") != std::string::npos);
    CHECK(html.find("#axis-compute-steps:checked~.on-compute-steps{display:block}") != std::string::npos);
  }
  SUBCASE("over compute steps the search's probe steps push its curves right of the baseline's") {
    for (const char* plot : {"lr", "train-loss", "val-loss"}) {
      CAPTURE(plot);
      const std::vector<std::string> on_model = polylines(svg_with_id(html, std::string(plot) + "-on-model-steps"));
      const std::vector<std::string> on_compute = polylines(svg_with_id(html, std::string(plot) + "-on-compute-steps"));
      REQUIRE(on_model.size() == 2);
      REQUIRE(on_compute.size() == 2);
      // Over model steps both start at the same step; over compute steps the search's stage starts
      // after its 130 probe steps, about 130/1130 of the ~1050 px wide plot area further right.
      const double model_shift = first_x(on_model[0]) - first_x(on_model[1]);
      const double compute_shift = first_x(on_compute[0]) - first_x(on_compute[1]);
      CHECK(std::abs(model_shift) < 1);
      CHECK(compute_shift > 100);
      CHECK(compute_shift < 140);
    }
  }
}

TEST_CASE("report::render_compare_report renders runs with nothing trained yet") {
  const spec::JobSpec job = job_named("fresh");
  const search::SearchRecord progress;
  const std::vector<LaunchReport> launches;
  const std::vector<RunState> runs = {RunState{job, progress, launches, RunStatus::running, 0, "", std::nullopt},
                                      RunState{job, progress, launches, RunStatus::running, 0, "", std::nullopt}};
  const std::string html = report::render_compare_report(runs);
  check_self_contained(html);
  CHECK(html.find("<h1>2 runs compared</h1>") != std::string::npos);
  CHECK(occurrences(html, "<td>0</td><td>0</td><td>–</td>") == 2);  // model steps, compute steps, no ratio
  CHECK(occurrences(html, "no run has trained yet") == 4);
  CHECK(occurrences(html, "no run printed val losses") == 2);
  CHECK(occurrences(html, "1. fresh (AutoLRS search): nothing to draw") == 6);
  CHECK(polylines(html).empty());
}
