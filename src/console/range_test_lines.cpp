#include "console/range_test_lines.hpp"

#include <cstdio>

#include "spec/command_template.hpp"

namespace autolrs::console {

void RangeTestLines::on_launch_finished(const orchestrator::LaunchReport& report, const orchestrator::RunState& state) {
  const search::LaunchOutcome& outcome = report.outcome;
  const search::StageRecord& stage = state.progress.stages.at(static_cast<size_t>(report.request.stage));
  char text[160];
  std::snprintf(text, sizeof text, "[lr %d of %d] lr=%.3e", report.request.probe, stage.probe_count, report.request.lr);
  m_out << text;
  const std::optional<double> final_loss = search::judged_value(stage.probes.at(static_cast<size_t>(report.request.probe)));
  if (final_loss) {
    std::snprintf(text, sizeof text, "  final loss %.4g", *final_loss);
    m_out << text;
  }
  if (outcome.status != search::OutcomeStatus::succeeded) m_out << "  " << search::to_string(outcome.status) << ": " << outcome.reason;
  std::snprintf(text, sizeof text, "  (%.1f s)\n", report.wall_s);
  m_out << text << std::flush;
}

void print_range_test_analysis(const search::RangeTestAnalysis& analysis, std::ostream& out) {
  out << "\n          lr  final loss\n";
  for (const search::RangeTestRow& row : analysis.rows) {
    char text[96];
    if (row.final_loss) {
      std::snprintf(text, sizeof text, "  %10.3e  %10.4g%s\n", row.lr, *row.final_loss,
                    analysis.best_lr && row.lr == *analysis.best_lr ? "  best" : "");
    } else {
      std::snprintf(text, sizeof text, "  %10.3e  %10s\n", row.lr, search::to_string(row.status));
    }
    out << text;
  }
  out << "\n" << analysis.explanation << "\n";
  if (!analysis.lr_min || !analysis.lr_max) return;
  out << "suggested: lr_min = " << spec::format_number(*analysis.lr_min) << ", lr_max = " << spec::format_number(*analysis.lr_max)
      << "\nset these in the spec's \"search\" object (its other keys stay):\n  \"lr_min\": " << spec::format_number(*analysis.lr_min)
      << ", \"lr_max\": " << spec::format_number(*analysis.lr_max) << "\n";
}

}  // namespace autolrs::console
