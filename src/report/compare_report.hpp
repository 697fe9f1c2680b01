#pragma once

#include <string>
#include <vector>

#include "orchestrator/run_observer.hpp"

namespace autolrs::report {

/// Name of the comparison page, written into the first run's directory.
inline constexpr const char* compare_file_name = "compare.html";

/// The compute steps spent before each of `launches` (in the order they finished): element i is
/// the sum of search::steps_run over launches 0 … i−1 (every launch counts, probes, decay tails,
/// retried and failed ones as far as they ran); one element more at the end, the sum over all.
std::vector<long> compute_step_offsets(const std::vector<orchestrator::LaunchReport>& launches);

/// compare.html: several runs (an AutoLRS run, its baselines, any runs) on one self-contained page
/// (inline CSS and SVG, no script): a table (per run its name and dir, what chose its LRs, status,
/// final train and val loss as summary.json has them, model steps, compute steps as
/// compute_step_offsets counts them and their ratio to model steps, wall time), then the LR
/// schedules (log LR), train and val loss of the main launches overlaid, one colour per run. Each
/// plot is rendered twice, over model steps and over compute steps, and two radio inputs switch
/// between them through CSS; over compute steps, a main launch starts at the compute steps of the
/// launches that finished before it, so a search's probes push its curves right. A run's train
/// series is drawn as its moving average when long (smoothing_window). Text is escaped.
std::string render_compare_report(const std::vector<orchestrator::RunState>& runs);

}  // namespace autolrs::report
