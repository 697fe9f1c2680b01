#include "report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "report/html_page_parts.hpp"
#include "report/svg_plot.hpp"
#include "search/peak_decay_search.hpp"
#include "search/stage_plan.hpp"

namespace autolrs::report {

namespace {

using orchestrator::LaunchReport;
using orchestrator::RunState;
using search::ProbeStatus;
using search::StageRecord;

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
constexpr const char* train_colour = "#0072B2";
constexpr const char* val_colour = "#E69F00";
constexpr const char* probe_colour = "#56B4E9";
constexpr const char* lr_colour = "#009E73";
constexpr const char* gp_colour = "#CC79A7";
constexpr const char* diverged_colour = "#D55E00";
constexpr const char* failed_colour = "#555555";
constexpr const char* boundary_colour = "#9a9a9a";

constexpr int wide_plot_width = 1140, wide_plot_height = 380;
constexpr int stage_plot_width = 560, stage_plot_height = 330;
/// Budget of points for all the faint probe lines together, so that huge runs stay a few MB.
constexpr std::size_t probe_points_budget = 60000;

/// Model step reached by the completed main launches (warmup and stages run back to back from 0).
long trained_until(const search::SearchRecord& progress) {
  long reached = 0;
  if (progress.warmup && progress.warmup->completed) reached = progress.warmup->steps;
  for (const StageRecord& stage : progress.stages) {
    if (stage.completed) reached = std::max(reached, stage.start_step + stage.steps);
  }
  return reached;
}

std::string stage_label(const StageRecord& stage) { return "S" + std::to_string(stage.index); }

/// Draws the stage boundaries (labelled when there is room) and shades what is not trained yet.
void add_stage_context(SvgPlot& plot, const RunState& state) {
  const auto& stages = state.progress.stages;
  const double px_per_step = (wide_plot_width - 90.0) / static_cast<double>(std::max<long>(1, state.job.total_steps));
  double last_label_px = -1e9;
  for (const StageRecord& stage : stages) {
    const double at_px = static_cast<double>(stage.start_step) * px_per_step;
    const bool room = at_px - last_label_px >= 34;
    if (room) last_label_px = at_px;
    plot.add_vertical_line(static_cast<double>(stage.start_step), {boundary_colour, 1, 1, "3 4"}, room ? stage_label(stage) : "");
  }
  const long reached = trained_until(state.progress);
  if (reached < state.job.total_steps) {
    plot.add_x_span(static_cast<double>(reached), static_cast<double>(state.job.total_steps), "#000000", 0.045,
                    reached == 0 ? "nothing trained yet" : "not trained yet");
  }
}

Axis steps_axis(const RunState& state) {
  return Axis{AxisKind::linear, 0, static_cast<double>(std::max<long>(1, state.job.total_steps)), "model step", true};
}

std::string lr_plot(const RunState& state) {
  const search::SearchRecord& progress = state.progress;
  Extent lr_extent(AxisKind::log);
  lr_extent.add(state.job.search.lr_min);
  lr_extent.add(state.job.search.lr_max);
  if (progress.warmup) lr_extent.add(progress.warmup->lr);
  for (const StageRecord& stage : progress.stages) {
    if (stage.lr) lr_extent.add(*stage.lr);
    if (stage.lr_end && *stage.lr_end > 0) lr_extent.add(*stage.lr_end);
    for (const search::ProbeRecord& probe : stage.probes) lr_extent.add(probe.lr);
  }
  SvgPlot plot("lr-schedule", wide_plot_width, wide_plot_height, steps_axis(state),
               lr_extent.axis("learning rate (log scale)", 0.06, 1e-4, 1));
  add_stage_context(plot, state);
  Legend legend;
  const LineStyle schedule_style{lr_colour, 2.5, 1, ""};
  const LineStyle training_style{lr_colour, 2.5, 1, "6 4"};
  const LineStyle probe_style{probe_colour, 2.5, 0.8, ""};
  bool any_probe = false, any_training = false, any_failed = false, any_diverged = false;
  const std::vector<Point> schedule = trained_schedule(progress);
  for (const StageRecord& stage : progress.stages) {
    const double start = static_cast<double>(stage.start_step);
    for (const search::ProbeRecord& probe : stage.probes) {
      const std::string tooltip = "stage " + std::to_string(stage.index) + " probe " + std::to_string(probe.index) +
                                  ": lr " + format_number(probe.lr, 4) + " (" + search::to_string(probe.status) + ")";
      const double end = start + static_cast<double>(stage.probe_steps);
      if (probe.status == ProbeStatus::failed || probe.status == ProbeStatus::diverged) {
        const bool diverged = probe.status == ProbeStatus::diverged;
        plot.add_marker({(start + end) / 2, probe.lr}, diverged ? Marker::triangle : Marker::cross,
                        diverged ? diverged_colour : failed_colour, tooltip);
        (diverged ? any_diverged : any_failed) = true;
      } else {
        plot.add_line({{start, probe.lr}, {end, probe.lr}}, probe_style, 4, tooltip);
        any_probe = true;
      }
    }
    if (!stage.lr || stage.completed) continue;  // trained stages are in the schedule
    const Point from{start, *stage.lr}, to{start + static_cast<double>(stage.steps), stage.lr_end.value_or(*stage.lr)};
    plot.add_line({from, to}, training_style, 4, "stage " + std::to_string(stage.index) + " (not finished): lr " + format_number(*stage.lr, 4));
    any_training = true;
  }
  plot.add_line(schedule, schedule_style, max_series_points, "LR schedule");
  if (schedule.empty() && !any_probe && !any_training) plot.add_note("no stage has an LR yet");
  if (!schedule.empty()) legend.line("LR schedule (trained stages)", schedule_style);
  if (any_training) legend.line("chosen LR, stage not finished", training_style);
  if (any_probe) legend.line("probe LRs (over each stage's probe steps)", probe_style);
  if (any_failed) legend.marker("failed probe", Marker::cross, failed_colour);
  if (any_diverged) legend.marker("diverged probe", Marker::triangle, diverged_colour);
  legend.line("stage boundary (S = stage)", {boundary_colour, 1.5, 1, "3 4"});
  return figure("Learning-rate schedule", plot.render("learning rate over model steps"), legend);
}

/// A launch's losses at their model steps.
std::vector<Point> global_series(const LaunchReport& launch, const std::vector<search::LossPoint>& series) {
  return series_at(static_cast<double>(launch.request.start_step), series);
}

std::string loss_plot(const RunState& state) {
  // The main launches that trained form the run's curve; probes and failed attempts are context.
  std::vector<const LaunchReport*> main_launches, context_launches;
  for (const LaunchReport& launch : state.launches) {
    (is_trained_main_launch(launch) ? main_launches : context_launches).push_back(&launch);
  }
  std::sort(main_launches.begin(), main_launches.end(),
            [](const LaunchReport* a, const LaunchReport* b) { return a->request.start_step < b->request.start_step; });
  std::vector<Point> train, val;
  for (const LaunchReport* launch : main_launches) {
    for (const Point& point : global_series(*launch, launch->outcome.train)) train.push_back(point);
    for (const Point& point : global_series(*launch, launch->outcome.val)) val.push_back(point);
  }
  // The y range follows the main curve; probes may extend it downwards but not upwards, so that a
  // diverging probe cannot flatten everything else. Without a main curve yet, succeeded probes set it.
  Extent range_linear, range_log(AxisKind::log);
  const auto add_range = [&](const std::vector<Point>& points) {
    for (const Point& point : points) {
      range_linear.add(point.y);
      range_log.add(point.y);
    }
  };
  add_range(train);
  add_range(val);
  if (range_linear.empty()) {
    for (const LaunchReport* launch : context_launches) {
      if (launch->outcome.status == search::OutcomeStatus::succeeded) {
        add_range(global_series(*launch, launch->outcome.train));
        add_range(global_series(*launch, launch->outcome.val));
      }
    }
  }
  const double ceiling = range_linear.empty() ? 0 : range_linear.hi();
  for (const LaunchReport* launch : context_launches) {
    for (const auto* series : {&launch->outcome.train, &launch->outcome.val}) {
      for (const search::LossPoint& point : *series) {
        if (point.loss <= ceiling) {
          range_linear.add(point.loss);
          range_log.add(point.loss);
        }
      }
    }
  }
  SvgPlot plot("loss", wide_plot_width, wide_plot_height, steps_axis(state), loss_axis(range_linear, range_log));
  add_stage_context(plot, state);

  const LineStyle probe_train_style{probe_colour, 1, 0.45, ""};
  const LineStyle probe_val_style{val_colour, 1, 0.35, ""};
  const std::size_t probe_points =
      std::max<std::size_t>(8, std::min<std::size_t>(400, probe_points_budget / std::max<std::size_t>(1, 2 * context_launches.size())));
  bool any_probe_val = false;
  for (const LaunchReport* launch : context_launches) {
    const std::string name = launch->request.id() + " (lr " + format_number(launch->request.lr, 4) + ", " +
                             search::to_string(launch->outcome.status) + ")";
    plot.add_line(global_series(*launch, launch->outcome.train), probe_train_style, probe_points, name);
    plot.add_line(global_series(*launch, launch->outcome.val), probe_val_style, probe_points, name + " val");
    any_probe_val = any_probe_val || !launch->outcome.val.empty();
  }
  // A long train series (per-step losses are noisy) is drawn faintly under its moving average.
  const std::size_t window = smoothing_window(train.size());
  const bool smoothed = window > 0;
  const LineStyle train_style{train_colour, smoothed ? 1.0 : 1.6, smoothed ? 0.3 : 1.0, ""};
  const LineStyle smoothed_style{train_colour, 2.2, 1, ""};
  const LineStyle val_style{val_colour, 2.2, 1, ""};
  plot.add_line(train, train_style, max_series_points, "train loss");
  if (smoothed) plot.add_line(trailing_mean(train, window), smoothed_style, max_series_points, "train loss, moving average");
  plot.add_line(val, val_style, max_series_points, "val loss");
  if (state.launches.empty()) plot.add_note("no launch has finished yet");

  Legend legend;
  if (!train.empty()) legend.line("train loss", train_style);
  if (smoothed) legend.line("train loss, mean of " + std::to_string(window) + " losses", smoothed_style);
  if (!val.empty()) legend.line("val loss", val_style);
  if (!context_launches.empty()) legend.line("probes and failed attempts: train loss", probe_train_style);
  if (any_probe_val) legend.line("their val loss", probe_val_style);
  legend.line("stage boundary", {boundary_colour, 1.5, 1, "3 4"});
  return figure("Loss", plot.render("train and validation loss over model steps"), legend,
                "non-finite losses are left out; probes are drawn faintly at the steps they trained");
}

/// The value the search judged a probe by (search::judged_value), with the forecast's σ when that
/// was a forecast (an end loss has no spread).
struct ProbeValue {
  double value = 0;
  double std = 0;
};

std::optional<ProbeValue> judged(const search::ProbeRecord& probe) {
  const std::optional<double> value = search::judged_value(probe);
  if (!value) return std::nullopt;
  const bool forecast = probe.judged_by == search::ProbeJudgement::forecast;
  return ProbeValue{*value, forecast ? probe.forecast->prediction_std : 0};
}

std::string stage_plot(const RunState& state, const StageRecord& stage) {
  const spec::SearchSpec& search_spec = state.job.search;
  Extent lr_extent(AxisKind::log);
  lr_extent.add(search_spec.lr_min);
  lr_extent.add(search_spec.lr_max);
  Extent value_extent;
  bool from_val = false, by_end_loss = false;
  for (const search::ProbeRecord& probe : stage.probes) {
    lr_extent.add(probe.lr);
    if (const std::optional<ProbeValue> value = judged(probe)) {
      value_extent.add(value->value - 2 * value->std);
      value_extent.add(value->value + 2 * value->std);
      const bool end_loss = probe.judged_by == search::ProbeJudgement::end_loss;
      by_end_loss = by_end_loss || end_loss;
      from_val = from_val || (end_loss ? probe.end_loss_from_val : probe.forecast_from_val);
    }
  }
  for (const numerics::PosteriorPoint& point : stage.posterior) value_extent.add(point.mean);
  const std::string objective = from_val ? "val loss" : "loss";
  const bool in_rounds = std::any_of(stage.probes.begin(), stage.probes.end(),
                                     [](const search::ProbeRecord& probe) { return probe.rounds > 0; });
  const std::string y_label = !by_end_loss        ? "forecast " + objective + " at step " + steps_text(stage.start_step + stage.steps)
                              : in_rounds         ? objective + " after the decay tail of its last round"
                              : stage.decay_tails ? objective + " after the decay tail"
                                                  : objective + " at the probe's end";
  SvgPlot plot("stage-" + std::to_string(stage.index), stage_plot_width, stage_plot_height,
               lr_extent.axis("probe learning rate (log scale)", 0.03, 1e-4, 1), value_extent.axis(y_label, 0.08, 0, 1));
  Legend legend;
  if (!stage.posterior.empty()) {
    std::vector<Point> mean, lower, upper;
    for (const numerics::PosteriorPoint& point : stage.posterior) {
      mean.push_back({point.lr, point.mean});
      lower.push_back({point.lr, point.mean - 2 * point.std});
      upper.push_back({point.lr, point.mean + 2 * point.std});
    }
    plot.add_band(lower, upper, gp_colour, 0.18);
    const LineStyle mean_style{gp_colour, 2, 1, ""};
    plot.add_line(mean, mean_style, max_series_points, "GP posterior mean");
    legend.line("GP posterior mean", mean_style);
    legend.band("±2σ", "rgba(204,121,167,0.35)");
  }
  bool any_ok = false, any_failed = false, any_diverged = false, any_pending = false, any_unjudged = false;
  std::vector<std::string> remarks;
  for (const search::ProbeRecord& probe : stage.probes) {
    const std::string name = "probe " + std::to_string(probe.index) + ": lr " + format_number(probe.lr, 4) +
                             (probe.rounds > 0 ? ", " + std::to_string(probe.rounds) + " round(s), " +
                                                     steps_text(probe.steps) + " steps"
                                               : "");
    if (const std::optional<ProbeValue> value = judged(probe)) {
      if (value->std > 0) {
        plot.add_error_bar(probe.lr, value->value - 2 * value->std, value->value + 2 * value->std, train_colour);
      }
      const std::string spread = value->std > 0 ? " ± " + format_number(2 * value->std, 2) : "";
      const bool end_loss = probe.judged_by == search::ProbeJudgement::end_loss;
      plot.add_marker({probe.lr, value->value}, Marker::circle, train_colour,
                      name + (end_loss ? ", loss " : ", forecast ") + format_number(value->value, 4) + spread);
      any_ok = true;
    } else if (probe.status == ProbeStatus::pending) {
      plot.add_vertical_line(probe.lr, {probe_colour, 1, 1, "2 3"}, "");
      any_pending = true;
    } else if (probe.status == ProbeStatus::succeeded) {
      any_unjudged = true;  // finished, not judged yet
    } else {
      const bool diverged = probe.status == ProbeStatus::diverged;
      const std::string why = name + ", " + search::to_string(probe.status) + ": " + probe.reason;
      plot.add_top_marker(probe.lr, diverged ? Marker::triangle : Marker::cross, diverged ? diverged_colour : failed_colour, why);
      remarks.push_back(why);
      (diverged ? any_diverged : any_failed) = true;
    }
  }
  // LRs the stage launch gave up (it diverged or made no progress there), each with why.
  for (const double lr : stage.abandoned_lrs) {
    const std::string label = "abandoned lr " + format_number(lr, 4);
    plot.add_vertical_line(lr, {diverged_colour, 1.5, 1, "2 2"}, label);
    std::string why = label;
    for (const orchestrator::LaunchReport& launch : state.launches) {
      const search::LaunchRequest& request = launch.request;
      if (request.kind == search::LaunchKind::stage && request.stage == stage.index && request.lr == lr &&
          launch.outcome.status != search::OutcomeStatus::succeeded) {
        why += ": the stage launch at it " + std::string(search::to_string(launch.outcome.status)) + " (" + launch.outcome.reason + ")";
      }
    }
    remarks.push_back(why + "; the stage went on at the next best probe's LR");
  }
  if (!stage.abandoned_lrs.empty()) legend.line("abandoned LR", {diverged_colour, 1.5, 1, "2 2"});
  const std::optional<search::DecayChoice>& decay = state.progress.decay;
  if (stage.index == 0 && in_rounds && decay) {
    std::string then = "after the hold, a " + decay->shape + " decay to 0";
    if (decay->anneal_gain) {
      const std::string threshold = format_number(100 * search::PeakDecaySearch::noise_limited_gain, 2) + "%";
      then += ": the last round's decay tails removed up to " + format_number(100 * *decay->anneal_gain, 2) + "% of the loss (" +
              (decay->shape == "cubic" ? threshold + " or more: the LR's noise bounds it, so the LR falls early)"
                                       : "under " + threshold + ": progress bounds it, so the LR stays high longer)");
    }
    remarks.push_back(then);
  }
  if (any_ok) legend.marker(by_end_loss ? "probe" : "probe forecast ±2σ", Marker::circle, train_colour);
  if (any_failed) legend.marker("failed (drawn at top)", Marker::cross, failed_colour);
  if (any_diverged) legend.marker("diverged (drawn at top)", Marker::triangle, diverged_colour);
  if (any_pending) legend.line("running probe", {probe_colour, 1.5, 1, "2 3"});
  if (stage.lr) {
    const LineStyle chosen_style{lr_colour, 2, 1, "6 3"};
    plot.add_vertical_line(*stage.lr, chosen_style, "chosen " + format_number(*stage.lr, 3));
    legend.line("chosen LR", chosen_style);
  }
  if (!any_ok) {
    plot.add_note(stage.probes.empty() ? "no probe yet"
                  : any_unjudged      ? "no value judged these launches yet"
                                      : "no probe result yet");
  }
  const std::string title = "Stage " + std::to_string(stage.index) + ": steps " + steps_text(stage.start_step) + "–" +
                            steps_text(stage.start_step + stage.steps);
  const std::string note = std::to_string(stage.probes.size()) + (stage.probes.size() == 1 ? " probe of " : " probes of ") +
                           steps_text(stage.probe_steps) + " steps";
  return figure(title, plot.render("stage " + std::to_string(stage.index) + " probes: " + y_label + " against learning rate"),
                legend, note, remarks);
}

std::string stage_state(const RunState& state, const StageRecord& stage, bool is_last) {
  if (stage.completed) return "trained";
  if (is_last && state.failure) return "failed";
  if (is_last && state.status == orchestrator::RunStatus::interrupted) return "interrupted";
  return stage.lr ? "training" : "probing";
}

std::string stage_table(const RunState& state) {
  const search::SearchRecord& progress = state.progress;
  std::string rows;
  if (progress.warmup) {
    const search::WarmupRecord& warmup = *progress.warmup;
    rows += "<tr><td>warmup</td><td>0</td><td>" + steps_text(warmup.steps) + "</td><td>" + format_number(warmup.lr, 4) +
            "</td><td>–</td><td>" + number_or_dash(warmup.final_loss) + "</td><td>" + number_or_dash(warmup.final_val_loss) +
            "</td><td>" + (warmup.completed ? "trained" : "training") + "</td><td>" +
            (warmup.attempts > 1 ? std::to_string(warmup.attempts) + " attempts" : "") + "</td></tr>\n";
  }
  for (const StageRecord& stage : progress.stages) {
    int ok = 0;
    for (const search::ProbeRecord& probe : stage.probes) ok += probe.status == ProbeStatus::succeeded;
    const std::string probes = stage.probe_steps == 0 ? "none (reused LR)" : std::to_string(ok) + "/" + std::to_string(stage.probes.size());
    const std::string row_state = stage_state(state, stage, &stage == &progress.stages.back());
    std::string notes;
    if (search::decided_on_fewer_probes(stage)) {
      notes += "LR chosen on " + std::to_string(search::judged_probe_count(stage)) + " of " + std::to_string(stage.probe_count) +
               " probes";
    }
    if (stage.attempts > 1) notes += std::string(notes.empty() ? "" : "; ") + std::to_string(stage.attempts) + " attempts";
    for (const double lr : stage.abandoned_lrs) notes += std::string(notes.empty() ? "" : "; ") + "abandoned lr " + format_number(lr, 4);
    rows += "<tr class=\"" + row_state + "\"><td>" + std::to_string(stage.index) + "</td><td>" + steps_text(stage.start_step) +
            "</td><td>" + steps_text(stage.steps) + "</td><td>" + number_or_dash(stage.lr) + "</td><td>" + probes +
            "</td><td>" + number_or_dash(stage.final_loss) + "</td><td>" + number_or_dash(stage.final_val_loss) +
            "</td><td>" + row_state + "</td><td>" + escape_html(notes) + "</td></tr>\n";
  }
  if (rows.empty()) rows = "<tr><td colspan=\"9\" class=\"empty\">no stage has started yet</td></tr>\n";
  return "<table>\n<thead><tr><th>stage</th><th>start step</th><th>steps</th><th>LR</th><th>probes ok/total</th>"
         "<th>final loss</th><th>val loss</th><th>state</th><th>notes</th></tr></thead>\n<tbody>\n" + rows + "</tbody>\n</table>\n";
}

std::string totals(const RunState& state) {
  const search::SearchRecord& progress = state.progress;
  const double overhead = progress.model_steps > 0
                              ? static_cast<double>(progress.probe_steps) / static_cast<double>(progress.model_steps)
                              : 0;
  const int planned = search::planned_stage_count(state.job.search, state.job.total_steps - state.job.warmup.steps);
  int completed = 0;
  for (const StageRecord& stage : progress.stages) completed += stage.completed;
  const auto card = [](const std::string& label, const std::string& value) {
    return "<div class=\"card\"><div class=\"label\">" + escape_html(label) + "</div><div class=\"value\">" + value + "</div></div>\n";
  };
  std::string html = "<section class=\"totals\">\n";
  html += card("status", std::string("<span class=\"status ") + orchestrator::to_string(state.status) + "\">" +
                             orchestrator::to_string(state.status) + "</span>");
  html += card("model steps", steps_text(progress.model_steps) + " <small>of " + steps_text(state.job.total_steps) + "</small>");
  html += card("stages trained", std::to_string(completed) + " <small>of " + std::to_string(planned) + "</small>");
  html += card("probe steps", steps_text(progress.probe_steps));
  html += card("discarded steps", steps_text(progress.discarded_steps));
  html += card("probe steps / training step", printf_text("%.2f", overhead));
  html += card("wall time", duration_text(state.wall_time_s));
  html += card("launches", std::to_string(state.launches.size()));
  html += "</section>\n";
  return html;
}

}  // namespace

std::string render_html_report(const RunState& state) {
  const std::string name = state.job.name + (state.method.empty() ? "" : " (" + state.method + ")");
  std::string html = "<h1>" + escape_html(name) + "</h1>\n";
  html += "<p class=\"subtitle\">Run directory <code>" + escape_html(state.job.run_dir) + "</code>";
  if (!state.final_checkpoint.empty()) html += " · latest checkpoint <code>" + escape_html(state.final_checkpoint) + "</code>";
  html += "</p>\n" + totals(state);
  if (state.failure) html += "<div class=\"banner failure\"><strong>Run failed:</strong> " + escape_html(*state.failure) + "</div>\n";
  if (state.status == orchestrator::RunStatus::running) {
    html += "<div class=\"banner info\">This run was in progress when the report was written: it shows the launches "
            "finished by then.</div>\n";
  } else if (state.status == orchestrator::RunStatus::interrupted) {
    html += "<div class=\"banner info\">This run was interrupted; continue it with <code>autolrs run SPEC --resume</code>.</div>\n";
  }
  html += "<h2>Schedule and loss</h2>\n" + lr_plot(state) + "<div style=\"height:14px\"></div>\n" + loss_plot(state);
  html += "<h2>Stages</h2>\n" + stage_table(state);
  std::string stage_figures;
  for (const StageRecord& stage : state.progress.stages) {
    if (!stage.probes.empty()) stage_figures += stage_plot(state, stage);
  }
  if (!stage_figures.empty()) {
    html += "<h2>Probes per stage</h2>\n<p class=\"explain\">Each probe trains from the stage's start checkpoint for "
            "a few steps at one LR. With the paper's search its loss series is forecast to the end of the stage; with "
            "the default search it goes on for a short decay tail at a tenth of its LR (except in the last stage), and "
            "the loss at its end counts. The best of them chose the LR that trained the stage; the Gaussian process is "
            "fitted to them over log(LR).</p>\n<div class=\"stages\">\n" +
            stage_figures + "</div>\n";
  }
  return html_page("autolrs: " + name, "", html);
}

}  // namespace autolrs::report
