#include "report/compare_report.hpp"

#include <algorithm>
#include <optional>

#include "orchestrator/run_summary.hpp"
#include "report/html_page_parts.hpp"
#include "report/svg_plot.hpp"

namespace autolrs::report {

namespace {

using orchestrator::LaunchReport;
using orchestrator::RunState;

constexpr int plot_width = 1140, plot_height = 360;

enum class StepAxis { model, compute };

/// The suffix of element ids and class names for a step axis.
const char* axis_name(StepAxis axis) { return axis == StepAxis::model ? "model-steps" : "compute-steps"; }

/// One run's lines on one step axis.
struct RunCurves {
  std::vector<Point> lr, train, val;
};

/// The LR schedule and the losses of the launches that trained the model. Over model steps the LR is
/// the trained stages' schedule; over compute steps each main launch is placed at the compute steps
/// before it, its LR from lr to lr_end (the steps of a winning probe a stage continued from are
/// then search steps, before it).
RunCurves curves_of(const RunState& run, StepAxis axis) {
  const std::vector<long> offsets = compute_step_offsets(run.launches);
  struct Placed {
    const LaunchReport* launch;
    double origin;
  };
  std::vector<Placed> trained;
  for (std::size_t i = 0; i < run.launches.size(); ++i) {
    const LaunchReport& launch = run.launches[i];
    if (!is_trained_main_launch(launch)) continue;
    trained.push_back({&launch, static_cast<double>(axis == StepAxis::model ? launch.request.start_step : offsets[i])});
  }
  std::stable_sort(trained.begin(), trained.end(),
                   [](const Placed& a, const Placed& b) { return a.launch->request.start_step < b.launch->request.start_step; });
  RunCurves curves;
  if (axis == StepAxis::model) curves.lr = trained_schedule(run.progress);
  for (const Placed& placed : trained) {
    const search::LaunchRequest& request = placed.launch->request;
    if (axis == StepAxis::compute) {
      curves.lr.push_back({placed.origin, request.lr});
      curves.lr.push_back({placed.origin + static_cast<double>(request.steps), request.lr_end.value_or(request.lr)});
    }
    for (const Point& point : series_at(placed.origin, placed.launch->outcome.train)) curves.train.push_back(point);
    for (const Point& point : series_at(placed.origin, placed.launch->outcome.val)) curves.val.push_back(point);
  }
  if (const std::size_t window = smoothing_window(curves.train.size())) curves.train = trailing_mean(curves.train, window);
  return curves;
}

std::string what_chose_lrs(const RunState& run) { return run.method.empty() ? "AutoLRS search" : run.method; }

std::string run_label(const RunState& run, std::size_t index) {
  return std::to_string(index + 1) + ". " + run.job.name + " (" + what_chose_lrs(run) + ")";
}

/// One colour per run; past the eight Okabe–Ito colours they repeat, dashed.
LineStyle run_style(std::size_t index) {
  return {okabe_ito[index % okabe_ito.size()], 2, 1, index < okabe_ito.size() ? "" : "6 3"};
}

enum class Series { lr, train, val };

const std::vector<Point>& series_of(const RunCurves& curves, Series series) {
  return series == Series::lr ? curves.lr : series == Series::train ? curves.train : curves.val;
}

/// One overlay plot of `series` on `axis`, one line per run.
std::string overlay_plot(const std::vector<RunState>& runs, const std::vector<RunCurves>& curves, Series series,
                         StepAxis axis, const Axis& x_axis) {
  Extent linear_range, log_range(AxisKind::log);
  for (const RunCurves& run_curves : curves) {
    for (const Point& point : series_of(run_curves, series)) {
      linear_range.add(point.y);
      log_range.add(point.y);
    }
  }
  const Axis y_axis = series == Series::lr ? log_range.axis("learning rate (log scale)", 0.06, 1e-4, 1)
                                           : loss_axis(linear_range, log_range);
  const char* name = series == Series::lr ? "lr" : series == Series::train ? "train-loss" : "val-loss";
  const std::string title = series == Series::lr ? "Learning-rate schedule" : series == Series::train ? "Train loss" : "Val loss";
  SvgPlot plot(std::string(name) + "-on-" + axis_name(axis), plot_width, plot_height, x_axis, y_axis);
  Legend legend;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::vector<Point>& points = series_of(curves[i], series);
    const std::string label = run_label(runs[i], i);
    plot.add_line(points, run_style(i), max_series_points, label);
    legend.line(label + (points.empty() ? ": nothing to draw" : ""), run_style(i));
  }
  if (linear_range.empty()) plot.add_note(series == Series::val ? "no run printed val losses" : "no run has trained yet");
  const std::string note = series == Series::train ? "main launches; a long series as its moving average" : "main launches";
  return figure(title + " over " + x_axis.label + "s", plot.render(title + " over " + x_axis.label + "s"), legend, note);
}

std::optional<double> optional_number(const nlohmann::json& value) {
  return value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt;
}

std::string run_table(const std::vector<RunState>& runs) {
  std::string rows;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunState& run = runs[i];
    const nlohmann::json summary = orchestrator::run_summary(run);
    const long model_steps = run.progress.model_steps;
    const long compute_steps = compute_step_offsets(run.launches).back();
    const std::string ratio = model_steps > 0
                                  ? printf_text("%.2f", static_cast<double>(compute_steps) / static_cast<double>(model_steps))
                                  : "–";
    const char* status = orchestrator::to_string(run.status);
    rows += "<tr><td><span class=\"swatch\" style=\"border-top:3px " + std::string(run_style(i).dash.empty() ? "solid " : "dashed ") +
            run_style(i).color + "\"></span> " + std::to_string(i + 1) + ". " + escape_html(run.job.name) +
            "</td><td><code>" + escape_html(run.job.run_dir) + "</code></td><td>" + escape_html(what_chose_lrs(run)) +
            "</td><td><span class=\"status " + status + "\">" + status + "</span></td><td>" +
            number_or_dash(optional_number(summary["final_loss"])) + "</td><td>" +
            number_or_dash(optional_number(summary["final_val_loss"])) + "</td><td>" + steps_text(model_steps) +
            "</td><td>" + steps_text(compute_steps) + "</td><td>" + ratio + "</td><td>" + duration_text(run.wall_time_s) +
            "</td></tr>\n";
  }
  return "<table class=\"runs\">\n<thead><tr><th>run</th><th>run directory</th><th>LRs chosen by</th><th>status</th>"
         "<th>final train loss</th><th>final val loss</th><th>model steps</th><th>compute steps</th>"
         "<th>compute / model</th><th>wall time</th></tr></thead>\n<tbody>\n" + rows + "</tbody>\n</table>\n";
}

/// Radio inputs and CSS `:checked ~` rules show the plots of one step axis at a time, without script.
constexpr const char* axis_switch_css = R"(
.axis-radio{position:absolute;opacity:0;pointer-events:none}
.axis-switch{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin:0 0 12px}
.axis-switch label{cursor:pointer;padding:3px 12px;border:1px solid #c3ccd5;border-radius:14px;background:#fff}
#axis-model-steps:checked~.axis-switch label[for=axis-model-steps],#axis-compute-steps:checked~.axis-switch label[for=axis-compute-steps]{background:#1d2329;border-color:#1d2329;color:#fff}
.axis-radio:focus-visible~.axis-switch{outline:2px solid #0072B2;outline-offset:4px}
.on-compute-steps,#axis-compute-steps:checked~.on-model-steps{display:none}
#axis-compute-steps:checked~.on-compute-steps{display:block}
.on-model-steps figure+figure,.on-compute-steps figure+figure{margin-top:14px}
table.runs td{white-space:nowrap}
table.runs td:nth-child(-n+4),table.runs th:nth-child(-n+4){text-align:left}
table.runs .swatch{width:18px;vertical-align:middle}
)";

}  // namespace

std::vector<long> compute_step_offsets(const std::vector<LaunchReport>& launches) {
  std::vector<long> offsets{0};
  offsets.reserve(launches.size() + 1);
  for (const LaunchReport& launch : launches) {
    offsets.push_back(offsets.back() + search::steps_run(launch.request, launch.outcome));
  }
  return offsets;
}

std::string render_compare_report(const std::vector<RunState>& runs) {
  long model_axis_end = 1, compute_axis_end = 1;
  for (const RunState& run : runs) {
    model_axis_end = std::max(model_axis_end, run.job.total_steps);
    compute_axis_end = std::max({compute_axis_end, run.job.total_steps, compute_step_offsets(run.launches).back()});
  }
  std::string html = "<h1>" + std::to_string(runs.size()) + " runs compared</h1>\n<p class=\"subtitle\">Written into the "
                     "first run's directory; each run's own report.html has its stages and probes.</p>\n";
  html += run_table(runs);
  html += "<h2>Schedules and losses</h2>\n<p class=\"explain\">Compute steps count the steps of every launch as far "
          "as it ran: probes, decay tails, retried and failed launches included. Over compute steps each main "
          "launch starts at the compute steps of the launches that finished before it, so the steps a search spends "
          "on probes push its curves to the right.</p>\n";
  html += "<input type=\"radio\" class=\"axis-radio\" name=\"step-axis\" id=\"axis-model-steps\" checked>\n"
          "<input type=\"radio\" class=\"axis-radio\" name=\"step-axis\" id=\"axis-compute-steps\">\n"
          "<div class=\"axis-switch\">x axis: <label for=\"axis-model-steps\">model steps</label>"
          "<label for=\"axis-compute-steps\">compute steps (probes included)</label></div>\n";
  for (const StepAxis axis : {StepAxis::model, StepAxis::compute}) {
    const Axis x_axis = axis == StepAxis::model
                            ? Axis{AxisKind::linear, 0, static_cast<double>(model_axis_end), "model step", true}
                            : Axis{AxisKind::linear, 0, static_cast<double>(compute_axis_end), "compute step", true};
    std::vector<RunCurves> curves;
    for (const RunState& run : runs) curves.push_back(curves_of(run, axis));
    html += std::string("<div class=\"on-") + axis_name(axis) + "\">\n";
    for (const Series series : {Series::lr, Series::train, Series::val}) html += overlay_plot(runs, curves, series, axis, x_axis);
    html += "</div>\n";
  }
  return html_page("autolrs: " + std::to_string(runs.size()) + " runs compared", axis_switch_css, html);
}

}  // namespace autolrs::report
